"""Bearer tokens for the API: roles, scopes, and a hashed store in Redis.

A token is a random secret shown once when created; Redis keeps only its
SHA-256 (hash ``siaga:tokens``: hex digest → JSON ``{role, scope, created_at,
label}``), so every stateless API replica can check it and a dump of Redis
reveals no usable token. Tokens carry 256 bits of randomness, so an unsalted
fast hash is enough (a slow password hash protects low-entropy secrets).

Roles and their scope:

- ``command_post`` — one posko (``posko_id``)
- ``warehouse_staff`` — one warehouse (``warehouse_id``)
- ``coordinator`` — one province (``province_code``) or national (no scope)
- ``admin`` — everything
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from redis.asyncio import Redis

TOKENS_KEY = "siaga:tokens"
TOKEN_PREFIX = "sg_"

Role = Literal["command_post", "warehouse_staff", "coordinator", "admin"]
ROLES: tuple[Role, ...] = ("command_post", "warehouse_staff", "coordinator", "admin")

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
_PROVINCE = re.compile(r"^\d{2}$")

# One demo principal per role for the embedded default (`siaga run`), scoped to the
# Cianjur 2022 replay: Jawa Barat (32), a posko in Cianjur, Bekasi's regional warehouse.
DEMO_SCOPES: dict[Role, dict[str, str]] = {
    "command_post": {"posko_id": "posko-cugenang"},
    "warehouse_staff": {"warehouse_id": "kemensos-bekasi"},
    "coordinator": {},
    "admin": {},
}


class TokenError(ValueError):
    """A token request with a bad role or scope; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role and the scope it may act in."""

    role: Role
    posko_id: str | None = None
    warehouse_id: str | None = None
    province_code: str | None = None  # coordinator: None means national
    label: str | None = None
    created_at: str | None = None

    @property
    def scope(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("posko_id", self.posko_id),
                ("warehouse_id", self.warehouse_id),
                ("province_code", self.province_code),
            )
            if v is not None
        }

    def describe(self) -> str:
        scope = ", ".join(f"{k}={v}" for k, v in self.scope.items())
        if self.role == "coordinator" and self.province_code is None:
            scope = "national"
        return f"{self.role}({scope})" if scope else self.role

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make_principal(
    role: str,
    *,
    posko_id: str | None = None,
    warehouse_id: str | None = None,
    province_code: str | None = None,
    label: str | None = None,
) -> Principal:
    """Check that a role gets exactly the scope it needs; raises :class:`TokenError`."""
    if role not in ROLES:
        raise TokenError("role", f"unknown role {role!r}; one of {', '.join(ROLES)}")
    given = {
        "posko_id": posko_id,
        "warehouse_id": warehouse_id,
        "province_code": province_code,
    }
    allowed = {
        "command_post": {"posko_id"},
        "warehouse_staff": {"warehouse_id"},
        "coordinator": {"province_code"},
        "admin": set(),
    }[role]
    for name, value in given.items():
        if value is not None and name not in allowed:
            raise TokenError(name, f"a {role} token does not take {name}")
    if role == "command_post" and not posko_id:
        raise TokenError("posko_id", "a command_post token needs its posko (--posko ID)")
    if role == "warehouse_staff" and not warehouse_id:
        raise TokenError("warehouse_id", "a warehouse_staff token needs --warehouse ID")
    for name in ("posko_id", "warehouse_id"):
        value = given[name]
        if value is not None and not _IDENTIFIER.match(value):
            raise TokenError(name, f"{value!r} is not a valid identifier")
    if province_code is not None and not _PROVINCE.match(province_code):
        raise TokenError(
            "province_code", f"{province_code!r} is not a 2-digit Kemendagri code (e.g. 32)"
        )
    return Principal(
        role=role,  # narrowed by the ROLES check above
        posko_id=posko_id,
        warehouse_id=warehouse_id,
        province_code=province_code,
        label=label,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def store_token(redis: Redis, principal: Principal, token: str | None = None) -> str:
    """Store a principal under a new (or given) token's hash; returns the token (shown once)."""
    token = token or new_token()
    await redis.hset(TOKENS_KEY, hash_token(token), json.dumps(principal.as_json()))
    return token


async def lookup(redis: Redis, token: str) -> Principal | None:
    """The principal for a presented token, or None when unknown."""
    if not token or len(token) > 256:
        return None
    raw = await redis.hget(TOKENS_KEY, hash_token(token))
    if raw is None:
        return None
    data = json.loads(raw)
    return Principal(
        role=data["role"],
        posko_id=data.get("posko_id"),
        warehouse_id=data.get("warehouse_id"),
        province_code=data.get("province_code"),
        label=data.get("label"),
        created_at=data.get("created_at"),
    )


async def revoke(redis: Redis, token: str) -> bool:
    return bool(await redis.hdel(TOKENS_KEY, hash_token(token)))


async def create_demo_tokens_async(redis: Redis, path: Path) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for role, scope in DEMO_SCOPES.items():
        principal = make_principal(role, label=f"demo {role}", **scope)
        tokens[role] = await store_token(redis, principal)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tokens, indent=2) + "\n")
    path.chmod(0o600)
    return tokens
