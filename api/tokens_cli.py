"""`siaga tokens create|list|revoke` and the demo tokens of `siaga run`.

Wired into `siaga/cli.py` with ``register(subparsers)``; also runnable alone:
``python -m api.tokens_cli create --role coordinator --province 32``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from siaga import tokens
from siaga.settings import Settings, get_settings

DEMO_TOKENS_FILE = "demo-tokens.json"


def _redis_url(settings: Settings) -> str:
    if not settings.redis_url:
        raise SystemExit("SIAGA_REDIS_URL must be set: tokens are stored in Redis")
    return settings.redis_url


async def _with_redis(settings: Settings, work: Any) -> Any:
    redis = Redis.from_url(_redis_url(settings))
    try:
        return await work(redis)
    finally:
        await redis.aclose()


def create_demo_tokens(settings: Settings, own_redis: bool = True) -> dict[str, str]:
    """One token per role in Redis; writes ``<data_dir>/demo-tokens.json`` {role: token}.

    Only in a Redis that `siaga run` started itself (``own_redis``): demo tokens (an admin
    among them) in a configured, shared Redis would be a back door into a real operation,
    so then nothing is minted, any stale demo-tokens.json is removed, and {} is returned.
    ``settings.redis_url`` must point at the running Redis (call after it started).
    Demo tokens expire after ``settings.demo_token_ttl_hours``.
    """
    path = Path(settings.data_dir) / DEMO_TOKENS_FILE
    if not own_redis:
        path.unlink(missing_ok=True)
        return {}
    ttl = timedelta(hours=settings.demo_token_ttl_hours)

    async def work(redis: Redis) -> dict[str, str]:
        return await tokens.create_demo_tokens_async(redis, path, ttl)

    result: dict[str, str] = asyncio.run(_with_redis(settings, work))
    return result


def cmd_create(args: argparse.Namespace) -> int:
    settings = get_settings()
    days = args.expires_days if args.expires_days is not None else settings.token_ttl_days
    try:
        principal = tokens.make_principal(
            args.role,
            posko_id=args.posko,
            warehouse_id=args.warehouse,
            province_code=args.province,
            kabupaten_code=args.kabupaten,
            team_id=args.team,
            label=args.label,
            ttl=timedelta(days=days),
        )
    except tokens.TokenError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2

    async def work(redis: Redis) -> str:
        return await tokens.store_token(redis, principal)

    token = asyncio.run(_with_redis(settings, work))
    if args.json:
        sys.stdout.write(json.dumps({"token": token, **principal.as_json()}) + "\n")
    else:
        sys.stderr.write(
            f"# {principal.describe()} id {principal.id}, expires {principal.expires_at}: "
            "shown once; Siaga keeps only its SHA-256\n"
        )
        sys.stdout.write(token + "\n")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    async def work(redis: Redis) -> list[tokens.TokenInfo]:
        return await tokens.list_tokens(redis)

    infos = asyncio.run(_with_redis(get_settings(), work))
    rows = [
        {
            "id": info.principal.id,
            "role": info.principal.role,
            "scope": info.principal.scope,
            "label": info.principal.label,
            "created_at": info.principal.created_at,
            "expires_at": info.principal.expires_at,
            "expired": info.principal.expired(),
            "last_used_at": info.last_used_at,
        }
        for info in infos
    ]
    if args.json:
        sys.stdout.write(json.dumps(rows) + "\n")
        return 0
    for row in rows:
        scope = ",".join(f"{k}={v}" for k, v in row["scope"].items()) or "-"
        state = "EXPIRED" if row["expired"] else f"expires {row['expires_at'] or 'never'}"
        sys.stdout.write(
            f"{row['id'] or '(no id)':14} {row['role']:16} {scope:40} {state:36} "
            f"last used {row['last_used_at'] or 'never'}  {row['label'] or ''}\n"
        )
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    async def work(redis: Redis) -> int:
        return await tokens.revoke(redis, args.ref)

    count = asyncio.run(_with_redis(get_settings(), work))
    if count:
        sys.stdout.write(f"revoked {count} token(s)\n")
        return 0
    sys.stderr.write("no such token (give its id, its label or the token itself)\n")
    return 1


def register(subparsers: Any) -> None:
    """Add `tokens create`, `tokens list` and `tokens revoke` to the `siaga` command line."""
    p = subparsers.add_parser("tokens", help="API bearer tokens (roles and scopes)")
    sub = p.add_subparsers(dest="tokens_command", required=True)
    c = sub.add_parser(
        "create",
        help="create a token (printed once) for a role and its scope",
        description="command_post needs --posko and --province (optionally --kabupaten); "
        "warehouse_staff needs --warehouse; team needs --team and --province; coordinator "
        "takes --province (omit for national); alert_feed (the BMKG CAP feed) and admin take none.",
    )
    c.add_argument("--role", required=True, choices=tokens.ROLES)
    c.add_argument("--posko", metavar="ID", help="command_post: its posko id")
    c.add_argument("--warehouse", metavar="ID", help="warehouse_staff: its warehouse id")
    c.add_argument(
        "--province", metavar="CODE",
        help="command_post: its territory's province; coordinator, team: its province (e.g. 32)",
    )
    c.add_argument("--kabupaten", metavar="CODE", help="command_post: one kabupaten, e.g. 32.03")
    c.add_argument("--team", metavar="ID", help="team: its TAGANA team id (its leader's phone)")
    c.add_argument("--label", help="who holds it (free text, for audits; revoke by it)")
    c.add_argument(
        "--expires-days", type=float, metavar="DAYS",
        help="lifetime in days (default SIAGA_TOKEN_TTL_DAYS, 90)",
    )
    c.add_argument("--json", action="store_true", help="print token and scope as JSON")
    c.set_defaults(func=cmd_create)
    la = sub.add_parser("list", help="list tokens: id, role, scope, expiry, last use (no secrets)")
    la.add_argument("--json", action="store_true")
    la.set_defaults(func=cmd_list)
    r = sub.add_parser("revoke", help="revoke a token by its id, its label or the token itself")
    r.add_argument("ref", metavar="ID|LABEL|TOKEN")
    r.set_defaults(func=cmd_revoke)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="siaga")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["tokens", *(argv if argv is not None else sys.argv[1:])])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
