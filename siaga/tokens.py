"""Bearer tokens for the API: roles, scopes, expiry, and a hashed store in Redis.

A token is a random secret shown once when created; Redis keeps only its
SHA-256 (hash ``siaga:tokens``: hex digest → JSON ``{id, role, scope, label,
created_at, expires_at}``), so every stateless API replica can check it and a dump
of Redis reveals no usable token. Tokens carry 256 bits of randomness, so an
unsalted fast hash is enough (a slow password hash protects low-entropy secrets).
Each token has a short public ``id`` (for ``siaga tokens list`` / ``revoke``), an
expiry, and a last-used time (hash ``siaga:tokens:last_used``: id → ISO time).

Roles and their scope:

- ``command_post`` — one posko (``posko_id``) in a territory: a province
  (``province_code``), optionally one kabupaten (``kabupaten_code``)
- ``warehouse_staff`` — one warehouse (``warehouse_id``)
- ``coordinator`` — one province (``province_code``) or national (no scope)
- ``alert_feed`` — an official alert feed (BMKG CAP); may post CAP alerts only
- ``team`` — one TAGANA team (``team_id``, its leader's phone) of a province
  (``province_code``): reports its own availability and progress, reads its assignment
- ``admin`` — everything

Pages do not keep the token: they exchange it once for a session (``siaga:session:``
+ SHA-256 of a random session id → token digest, with a TTL), sent back as an
HttpOnly cookie; revoking the token ends its sessions too.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from redis.asyncio import Redis

TOKENS_KEY = "siaga:tokens"
LAST_USED_KEY = "siaga:tokens:last_used"
SESSION_PREFIX = "siaga:session:"
TOKEN_PREFIX = "sg_"
SESSION_PREFIX_PUBLIC = "ss_"

Role = Literal["command_post", "warehouse_staff", "coordinator", "alert_feed", "team", "admin"]
ROLES: tuple[Role, ...] = (
    "command_post", "warehouse_staff", "coordinator", "alert_feed", "team", "admin",
)

DEFAULT_TTL = timedelta(days=90)
DEMO_TTL = timedelta(hours=72)

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
_PROVINCE = re.compile(r"^\d{2}$")
_KABUPATEN = re.compile(r"^\d{2}\.\d{2}$")

# One demo principal per role for the embedded default (`siaga run`), scoped to the
# Cianjur 2022 replay: Jawa Barat (32), a posko in Cianjur, Bekasi's regional warehouse.
DEMO_SCOPES: dict[Role, dict[str, str]] = {
    "command_post": {"posko_id": "posko-cugenang", "province_code": "32"},
    "warehouse_staff": {"warehouse_id": "kemensos-bekasi"},
    "coordinator": {},
    "team": {"team_id": "tagana-3203-01", "province_code": "32"},
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
    kabupaten_code: str | None = None  # command_post: optional narrower territory
    team_id: str | None = None  # team: the one TAGANA team it reports for
    label: str | None = None
    created_at: str | None = None
    id: str | None = None  # public handle for list / revoke (not a secret)
    expires_at: str | None = None  # ISO UTC; None only for tokens made before expiry existed

    @property
    def scope(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("posko_id", self.posko_id),
                ("warehouse_id", self.warehouse_id),
                ("province_code", self.province_code),
                ("kabupaten_code", self.kabupaten_code),
                ("team_id", self.team_id),
            )
            if v is not None
        }

    def expired(self, now: datetime | None = None) -> bool:
        if self.expires_at is None:
            return False
        return datetime.fromisoformat(self.expires_at) <= (now or datetime.now(UTC))

    @property
    def subject(self) -> str:
        """Who to count rate limits and live connections against."""
        return self.id or self.describe()

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
    kabupaten_code: str | None = None,
    team_id: str | None = None,
    label: str | None = None,
    ttl: timedelta | None = DEFAULT_TTL,
) -> Principal:
    """Check that a role gets exactly the scope it needs; raises :class:`TokenError`.

    ``ttl`` is how long the token lives (None: no expiry; only for tests and tooling).
    """
    if role not in ROLES:
        raise TokenError("role", f"unknown role {role!r}; one of {', '.join(ROLES)}")
    given = {
        "posko_id": posko_id,
        "warehouse_id": warehouse_id,
        "province_code": province_code,
        "kabupaten_code": kabupaten_code,
        "team_id": team_id,
    }
    allowed = {
        "command_post": {"posko_id", "province_code", "kabupaten_code"},
        "warehouse_staff": {"warehouse_id"},
        "coordinator": {"province_code"},
        "alert_feed": set(),
        "team": {"team_id", "province_code"},
        "admin": set(),
    }[role]
    for name, value in given.items():
        if value is not None and name not in allowed:
            raise TokenError(name, f"a {role} token does not take {name}")
    if role == "command_post" and not posko_id:
        raise TokenError("posko_id", "a command_post token needs its posko (--posko ID)")
    if role == "command_post" and not province_code:
        raise TokenError(
            "province_code",
            "a command_post token needs its territory (--province CODE [--kabupaten CODE])",
        )
    if role == "warehouse_staff" and not warehouse_id:
        raise TokenError("warehouse_id", "a warehouse_staff token needs --warehouse ID")
    if role == "team" and not team_id:
        raise TokenError("team_id", "a team token needs its team (--team ID)")
    if role == "team" and not province_code:
        raise TokenError("province_code", "a team token needs its team's province (--province)")
    for name in ("posko_id", "warehouse_id", "team_id"):
        value = given[name]
        if value is not None and not _IDENTIFIER.match(value):
            raise TokenError(name, f"{value!r} is not a valid identifier")
    if province_code is not None and not _PROVINCE.match(province_code):
        raise TokenError(
            "province_code", f"{province_code!r} is not a 2-digit Kemendagri code (e.g. 32)"
        )
    if kabupaten_code is not None:
        if not _KABUPATEN.match(kabupaten_code):
            raise TokenError(
                "kabupaten_code", f"{kabupaten_code!r} is not a Kemendagri code (e.g. 32.03)"
            )
        if not kabupaten_code.startswith(f"{province_code}."):
            raise TokenError(
                "kabupaten_code", f"{kabupaten_code} is not in province {province_code}"
            )
    now = datetime.now(UTC)
    return Principal(
        role=role,  # narrowed by the ROLES check above
        posko_id=posko_id,
        warehouse_id=warehouse_id,
        province_code=province_code,
        kabupaten_code=kabupaten_code,
        team_id=team_id,
        label=label,
        created_at=now.isoformat(timespec="seconds"),
        id=secrets.token_hex(6),
        expires_at=(now + ttl).isoformat(timespec="seconds") if ttl is not None else None,
    )


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


async def store_token(redis: Redis, principal: Principal, token: str | None = None) -> str:
    """Store a principal under a new (or given) token's hash; returns the token (shown once)."""
    token = token or new_token()
    await redis.hset(TOKENS_KEY, hash_token(token), json.dumps(principal.as_json()))
    return token


def _principal(raw: Any) -> Principal:
    data = json.loads(raw)
    return Principal(
        role=data["role"],
        posko_id=data.get("posko_id"),
        warehouse_id=data.get("warehouse_id"),
        province_code=data.get("province_code"),
        kabupaten_code=data.get("kabupaten_code"),
        team_id=data.get("team_id"),
        label=data.get("label"),
        created_at=data.get("created_at"),
        id=data.get("id"),
        expires_at=data.get("expires_at"),
    )


async def lookup_digest(redis: Redis, digest: str) -> Principal | None:
    """The principal stored under a token's SHA-256, or None when unknown or expired."""
    raw = await redis.hget(TOKENS_KEY, digest)
    if raw is None:
        return None
    principal = _principal(raw)
    return None if principal.expired() else principal


async def lookup(redis: Redis, token: str) -> Principal | None:
    """The principal for a presented token, or None when unknown, revoked or expired."""
    if not token or len(token) > 256:
        return None
    return await lookup_digest(redis, hash_token(token))


async def touch(redis: Redis, principal: Principal) -> None:
    """Record that a token was just used (called at most every few seconds per token)."""
    if principal.id:
        await redis.hset(
            LAST_USED_KEY, principal.id, datetime.now(UTC).isoformat(timespec="seconds")
        )


@dataclass(frozen=True)
class TokenInfo:
    digest: str
    principal: Principal
    last_used_at: str | None


async def list_tokens(redis: Redis) -> list[TokenInfo]:
    """Every stored token (never the secret), oldest first."""
    stored = await redis.hgetall(TOKENS_KEY)
    used = await redis.hgetall(LAST_USED_KEY)
    last = {_s(k): _s(v) for k, v in used.items()}
    out = []
    for digest, raw in stored.items():
        principal = _principal(raw)
        out.append(TokenInfo(_s(digest), principal, last.get(principal.id or "")))
    out.sort(key=lambda info: info.principal.created_at or "")
    return out


async def revoke(redis: Redis, ref: str) -> int:
    """Revoke by token id, by label (every token with it) or by the token itself.

    Returns how many tokens were revoked. Sessions made from them stop working too.
    """
    if ref.startswith(TOKEN_PREFIX):
        return int(await redis.hdel(TOKENS_KEY, hash_token(ref)))
    doomed = [
        info
        for info in await list_tokens(redis)
        if ref in (info.principal.id, info.principal.label)
    ]
    for info in doomed:
        await redis.hdel(TOKENS_KEY, info.digest)
        if info.principal.id:
            await redis.hdel(LAST_USED_KEY, info.principal.id)
    return len(doomed)


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _session_key(session_id: str) -> str:
    return SESSION_PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


async def create_session(redis: Redis, token: str, principal: Principal, ttl: timedelta) -> str:
    """A new session id for a valid token (the page's cookie); lives at most as the token."""
    seconds = ttl.total_seconds()
    if principal.expires_at is not None:
        left = (datetime.fromisoformat(principal.expires_at) - datetime.now(UTC)).total_seconds()
        seconds = min(seconds, left)
    session_id = SESSION_PREFIX_PUBLIC + secrets.token_urlsafe(32)
    await redis.set(_session_key(session_id), hash_token(token), ex=max(1, int(seconds)))
    return session_id


async def session_principal(redis: Redis, session_id: str) -> Principal | None:
    """The principal behind a session cookie (None when unknown, ended, or its token revoked)."""
    if not session_id or len(session_id) > 256:
        return None
    digest = await redis.get(_session_key(session_id))
    if digest is None:
        return None
    return await lookup_digest(redis, _s(digest))


async def end_session(redis: Redis, session_id: str) -> None:
    await redis.delete(_session_key(session_id))


async def create_demo_tokens_async(
    redis: Redis, path: Path, ttl: timedelta = DEMO_TTL
) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for role, scope in DEMO_SCOPES.items():
        principal = make_principal(role, label=f"demo {role}", ttl=ttl, **scope)
        tokens[role] = await store_token(redis, principal)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(tokens, indent=2) + "\n")
    path.chmod(0o600)
    return tokens
