"""Helpers for the API's end-to-end tests: tokens written straight into the test's Redis."""

from __future__ import annotations

import json
from typing import Any

from redis import Redis

from siaga import tokens

# One principal per role and scope the API tests use.
SCOPES: dict[str, dict[str, Any]] = {
    "command_post": {"role": "command_post", "posko_id": "posko-cianjur-kab"},
    "command_post_other": {"role": "command_post", "posko_id": "posko-garut"},
    "command_post_lumajang": {"role": "command_post", "posko_id": "posko-lumajang"},
    "warehouse_staff": {"role": "warehouse_staff", "warehouse_id": "wh-bekasi-regional"},
    "warehouse_staff_other": {"role": "warehouse_staff", "warehouse_id": "wh-makassar-regional"},
    "coordinator": {"role": "coordinator", "province_code": "32"},
    "coordinator_other": {"role": "coordinator", "province_code": "72"},
    "coordinator_national": {"role": "coordinator"},
    "admin": {"role": "admin"},
}


def make_token(redis_url: str, role: str, **scope: Any) -> str:
    """A new token for ``role`` and ``scope``, stored hashed as `siaga tokens create` does."""
    principal = tokens.make_principal(role, label=f"test {role}", **scope)
    token = tokens.new_token()
    client = Redis.from_url(redis_url)
    try:
        client.hset(tokens.TOKENS_KEY, tokens.hash_token(token), json.dumps(principal.as_json()))
    finally:
        client.close()
    return token


def make_tokens(redis_url: str) -> dict[str, str]:
    """{name: token} for every entry of :data:`SCOPES`."""
    out = {}
    for name, scope in SCOPES.items():
        rest = {k: v for k, v in scope.items() if k != "role"}
        out[name] = make_token(redis_url, scope["role"], **rest)
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
