"""Helpers for the API's end-to-end tests: tokens written straight into the test's Redis."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from redis import Redis

from siaga import tokens

# One principal per role and scope the API tests use.
SCOPES: dict[str, dict[str, Any]] = {
    "command_post": {"role": "command_post", "posko_id": "posko-cianjur-kab",
                     "province_code": "32"},
    "command_post_other": {"role": "command_post", "posko_id": "posko-garut",
                           "province_code": "32"},
    "command_post_lumajang": {"role": "command_post", "posko_id": "posko-lumajang",
                              "province_code": "35"},
    "command_post_cianjur_only": {"role": "command_post", "posko_id": "posko-cugenang",
                                  "province_code": "32", "kabupaten_code": "32.03"},
    "alert_feed": {"role": "alert_feed"},
    "warehouse_staff": {"role": "warehouse_staff", "warehouse_id": "wh-bekasi-regional"},
    "warehouse_staff_other": {"role": "warehouse_staff", "warehouse_id": "wh-makassar-regional"},
    "coordinator": {"role": "coordinator", "province_code": "32"},
    "coordinator_other": {"role": "coordinator", "province_code": "72"},
    "coordinator_national": {"role": "coordinator"},
    "team": {"role": "team", "team_id": "tagana-3203-01", "province_code": "32"},
    "team_other": {"role": "team", "team_id": "tagana-other", "province_code": "32"},
    "admin": {"role": "admin"},
}


def make_token(
    redis_url: str, role: str, ttl: timedelta = timedelta(days=1), **scope: Any
) -> str:
    """A new token for ``role`` and ``scope``, stored hashed as `siaga tokens create` does."""
    scope.setdefault("label", f"test {role}")
    principal = tokens.make_principal(role, ttl=ttl, **scope)
    token = tokens.new_token()
    client = Redis.from_url(redis_url)
    try:
        client.hset(tokens.TOKENS_KEY, tokens.hash_token(token), json.dumps(principal.as_json()))
    finally:
        client.close()
    return token


def make_tokens(redis_url: str, team_id: str | None = None) -> dict[str, str]:
    """{name: token} for every entry of :data:`SCOPES` (``team_id``: the ``team`` token's
    own team, when not the default)."""
    out = {}
    for name, scope in SCOPES.items():
        rest = {k: v for k, v in scope.items() if k != "role"}
        if name == "team" and team_id is not None:
            rest["team_id"] = team_id
        out[name] = make_token(redis_url, scope["role"], **rest)
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
