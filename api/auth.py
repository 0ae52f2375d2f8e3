"""Bearer-token authentication and the scope rules each audience's routes apply.

Reads of the operational picture need any valid token; every write needs a token
whose role and scope cover what is written (401 without one, 403 outside scope).
A token may also arrive as ``?access_token=`` on GET requests, because a
browser's ``EventSource`` and a CSV download link cannot set headers.
"""

from __future__ import annotations

import time

from fastapi import HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from siaga import tokens
from siaga.tokens import Principal, Role

bearer = HTTPBearer(auto_error=False, description="`siaga tokens create --role ...`")

# Positive lookups are cached per process for this long: a revoked token stops working
# within CACHE_SECONDS on every replica; unknown tokens are never cached.
CACHE_SECONDS = 30.0


class TokenCache:
    def __init__(self, ttl: float = CACHE_SECONDS, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}

    async def principal(self, redis: Redis, token: str) -> Principal | None:
        now = time.monotonic()
        hit = self._entries.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = await tokens.lookup(redis, token)
        if principal is not None:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[token] = (now + self.ttl, principal)
        return principal


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status_code=401, detail=message, headers={"WWW-Authenticate": 'Bearer realm="siaga"'}
    )


def forbidden(field: str, message: str) -> HTTPException:
    return HTTPException(status_code=403, detail=f"{field}: {message}")


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    token = credentials.credentials if credentials is not None else None
    if token is None and request.method == "GET":
        token = request.query_params.get("access_token")
    if not token:
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    cache: TokenCache = request.app.state.token_cache
    principal = await cache.principal(request.app.state.redis, token)
    if principal is None:
        raise _unauthorized("unknown or revoked token")
    return principal


def require_role(principal: Principal, roles: tuple[Role, ...]) -> None:
    if principal.role not in roles:
        raise forbidden("role", f"{principal.role} may not do this (needs {' or '.join(roles)})")


def authorize_province(principal: Principal, province_code: str) -> None:
    """Coordinators act in their province (national ones everywhere); admins everywhere."""
    if principal.role == "admin":
        return
    if principal.role == "coordinator":
        if principal.province_code in (None, province_code):
            return
        raise forbidden(
            "province_code",
            f"this token coordinates province {principal.province_code}, not {province_code}",
        )
    raise forbidden("role", f"{principal.role} may not do this (needs coordinator or admin)")


def authorize_posko(principal: Principal, posko_id: str, province_code: str | None) -> None:
    """A command post reports for its own posko; coordinators for posts in their province."""
    if principal.role == "command_post":
        if principal.posko_id == posko_id:
            return
        raise forbidden(
            "posko_id", f"this token reports for posko {principal.posko_id}, not {posko_id}"
        )
    if principal.role == "coordinator" and province_code is None:
        if principal.province_code is None:
            return
        raise forbidden("province_code", "the province is not known yet; send province_code")
    if province_code is None:
        if principal.role == "admin":
            return
        raise forbidden("role", f"{principal.role} may not report for a posko")
    authorize_province(principal, province_code)


def authorize_warehouse(principal: Principal, warehouse_id: str) -> None:
    """Warehouse staff act only on their own warehouse's shipments; admins on any."""
    if principal.role == "admin":
        return
    if principal.role == "warehouse_staff":
        if principal.warehouse_id == warehouse_id:
            return
        raise forbidden(
            "warehouse_id",
            f"this token works for warehouse {principal.warehouse_id}, not {warehouse_id}",
        )
    raise forbidden("role", f"{principal.role} may not do this (needs warehouse_staff or admin)")


def may_read_warehouse(principal: Principal, warehouse_id: str) -> None:
    """Warehouse staff see their own desk; coordinators and admins see every warehouse."""
    if principal.role in ("admin", "coordinator"):
        return
    authorize_warehouse(principal, warehouse_id)
