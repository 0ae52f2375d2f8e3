"""Authentication (bearer token or the pages' session cookie) and the scope rules.

Reads of the operational picture need any valid credential; every write needs a
token whose role and scope cover what is written (401 without one, 403 outside
scope). A token is never accepted in a URL (``?token=`` / ``?access_token=`` get
401 on every route, see :class:`api.security.RefuseTokensInUrls`): pages exchange
it once for an HttpOnly, SameSite=Strict session cookie (``POST /api/v1/session``),
which ``EventSource`` and download links send by themselves.

Failed authentications are counted per client address in Redis (so every replica
sees them): past ``settings.auth_failures_per_minute`` in the current minute,
further look-ups get 429 with ``Retry-After`` until the minute ends. Credentials
already known good to this process (cached) are not throttled, so guessing gets no
faster and a colleague's typo does not lock out the operations room.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from siaga import tokens
from siaga.settings import Settings
from siaga.tokens import Principal, Role

bearer = HTTPBearer(auto_error=False, description="`siaga tokens create --role ...`")

SESSION_COOKIE = "siaga_session"
RATE_PREFIX = "siaga:rl:"
WINDOW_SECONDS = 60

# Positive lookups are cached per process for this long: a revoked token stops working
# within CACHE_SECONDS on every replica; unknown tokens are never cached.
CACHE_SECONDS = 30.0


class TokenCache:
    def __init__(self, ttl: float = CACHE_SECONDS, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}

    def cached(self, key: str) -> Principal | None:
        hit = self._entries.get(key)
        if hit is not None and hit[0] > time.monotonic() and not hit[1].expired():
            return hit[1]
        return None

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    async def principal(self, redis: Redis, token: str) -> Principal | None:
        return await self._resolve(redis, f"t:{token}", lambda: tokens.lookup(redis, token))

    async def session(self, redis: Redis, session_id: str) -> Principal | None:
        return await self._resolve(
            redis, f"s:{session_id}", lambda: tokens.session_principal(redis, session_id)
        )

    async def _resolve(
        self, redis: Redis, key: str, load: Callable[[], Awaitable[Principal | None]]
    ) -> Principal | None:
        hit = self.cached(key)
        if hit is not None:
            return hit
        principal = await load()
        if principal is not None:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.ttl, principal)
            await tokens.touch(redis, principal)
        return principal


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status_code=401, detail=message, headers={"WWW-Authenticate": 'Bearer realm="siaga"'}
    )


def forbidden(field: str, message: str) -> HTTPException:
    return HTTPException(status_code=403, detail=f"{field}: {message}")


def too_many(message: str, retry_after: int) -> HTTPException:
    return HTTPException(
        status_code=429, detail=message, headers={"Retry-After": str(max(1, retry_after))}
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _window() -> tuple[int, int]:
    """The current fixed window and the seconds left in it."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    return window, int((window + 1) * WINDOW_SECONDS - now) + 1


async def _count(redis: Redis, key: str) -> int:
    pipe = redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS * 2)
    count, _ = await pipe.execute()
    return int(count)


async def _failures(redis: Redis, address: str) -> tuple[str, int, int]:
    window, left = _window()
    key = f"{RATE_PREFIX}authfail:{address}:{window}"
    raw = await redis.get(key)
    return key, int(raw or 0), left


async def authenticate(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if "token" in request.query_params or "access_token" in request.query_params:
        raise _unauthorized("token: tokens are not accepted in URLs; send Authorization: Bearer")
    token = credentials.credentials if credentials is not None else None
    session_id = None if token else request.cookies.get(SESSION_COOKIE)
    if not token and not session_id:
        raise _unauthorized("missing bearer token (Authorization: Bearer <token>)")
    cache: TokenCache = request.app.state.token_cache
    key = f"t:{token}" if token else f"s:{session_id}"
    principal = cache.cached(key)
    if principal is None:
        redis: Redis = request.app.state.redis
        settings: Settings = request.app.state.settings
        fail_key, failures, left = await _failures(redis, client_address(request))
        if failures >= settings.auth_failures_per_minute:
            raise too_many(
                f"authorization: {failures} failed authentications from this address in the "
                f"last minute; retry in {left} s",
                left,
            )
        if token:
            principal = await cache.principal(redis, token)
        else:
            assert session_id is not None
            principal = await cache.session(redis, session_id)
        if principal is None:
            await _count(redis, fail_key)
            if token:
                raise _unauthorized("unknown, expired or revoked token")
            raise _unauthorized("session ended or its token was revoked; sign in again")
    if session_id and request.method not in ("GET", "HEAD", "OPTIONS"):
        _same_origin(request)
    request.state.principal = principal
    return principal


def _same_origin(request: Request) -> None:
    """A cookie-authenticated write must come from our own pages (SameSite=Strict already
    keeps other sites' requests cookie-less; this refuses an explicit foreign Origin)."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    host = request.headers.get("host", "")
    if origin.split("://", 1)[-1].rstrip("/") != host:
        raise forbidden("origin", f"{origin} is not this site; use the Siaga pages")


async def count_write(request: Request, principal: Principal) -> None:
    """Writes per token and minute (429 with Retry-After past settings.writes_per_minute)."""
    settings: Settings = request.app.state.settings
    window, left = _window()
    count = await _count(
        request.app.state.redis, f"{RATE_PREFIX}write:{principal.subject}:{window}"
    )
    if count > settings.writes_per_minute:
        raise too_many(
            f"rate: more than {settings.writes_per_minute} writes this minute from this token; "
            f"retry in {left} s",
            left,
        )


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


def authorize_territory(
    principal: Principal, province_code: str | None, kabupaten_code: str | None
) -> None:
    """A command post writes only inside the territory its token was created for."""
    if principal.province_code is None:
        raise forbidden(
            "province_code",
            f"the token of posko {principal.posko_id} has no territory; ask for a new one "
            "(siaga tokens create --role command_post --posko ID --province CODE)",
        )
    if province_code is not None and province_code != principal.province_code:
        raise forbidden(
            "province_code",
            f"posko {principal.posko_id} works in province {principal.province_code}; "
            f"this is in province {province_code}",
        )
    if (
        principal.kabupaten_code is not None
        and kabupaten_code is not None
        and kabupaten_code != principal.kabupaten_code
    ):
        raise forbidden(
            "kabupaten_code",
            f"posko {principal.posko_id} works in kabupaten {principal.kabupaten_code}; "
            f"this is in kabupaten {kabupaten_code}",
        )


def authorize_posko(
    principal: Principal,
    posko_id: str,
    province_code: str | None,
    kabupaten_code: str | None = None,
) -> None:
    """A command post reports for its own posko in its territory; coordinators for posts in
    their province; admins anywhere."""
    if principal.role == "command_post":
        if principal.posko_id != posko_id:
            raise forbidden(
                "posko_id", f"this token reports for posko {principal.posko_id}, not {posko_id}"
            )
        authorize_territory(principal, province_code, kabupaten_code)
        return
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


def authorize_team(principal: Principal, team_id: str, province_code: str | None) -> None:
    """A team's phone acts only for its own team; coordinators for teams of their province
    (national ones for any); admins for any."""
    if principal.role == "team":
        if principal.team_id != team_id:
            raise forbidden(
                "team_id", f"this token belongs to team {principal.team_id}, not {team_id}"
            )
        if province_code is not None and principal.province_code != province_code:
            raise forbidden(
                "province_code",
                f"team {team_id} is in province {province_code}, this token in "
                f"{principal.province_code}",
            )
        return
    if province_code is None:
        if principal.role == "admin" or (
            principal.role == "coordinator" and principal.province_code is None
        ):
            return
        raise forbidden("province_code", "the team's province is not known yet")
    authorize_province(principal, province_code)
