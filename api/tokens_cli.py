"""`siaga tokens create|revoke` and the demo tokens of `siaga run`.

Wired into `siaga/cli.py` with ``register(subparsers)``; also runnable alone:
``python -m api.tokens_cli create --role coordinator --province 32``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
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


def create_demo_tokens(settings: Settings) -> dict[str, str]:
    """One token per role in Redis; writes ``<data_dir>/demo-tokens.json`` {role: token}.

    ``settings.redis_url`` must point at the running Redis (call after it started).
    """
    path = Path(settings.data_dir) / DEMO_TOKENS_FILE

    async def work(redis: Redis) -> dict[str, str]:
        return await tokens.create_demo_tokens_async(redis, path)

    result: dict[str, str] = asyncio.run(_with_redis(settings, work))
    return result


def cmd_create(args: argparse.Namespace) -> int:
    try:
        principal = tokens.make_principal(
            args.role,
            posko_id=args.posko,
            warehouse_id=args.warehouse,
            province_code=args.province,
            label=args.label,
        )
    except tokens.TokenError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2

    async def work(redis: Redis) -> str:
        return await tokens.store_token(redis, principal)

    token = asyncio.run(_with_redis(get_settings(), work))
    if args.json:
        sys.stdout.write(json.dumps({"token": token, **principal.as_json()}) + "\n")
    else:
        sys.stderr.write(
            f"# {principal.describe()}: shown once; Siaga keeps only its SHA-256\n"
        )
        sys.stdout.write(token + "\n")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    async def work(redis: Redis) -> bool:
        return await tokens.revoke(redis, args.token)

    if asyncio.run(_with_redis(get_settings(), work)):
        sys.stdout.write("revoked\n")
        return 0
    sys.stderr.write("no such token\n")
    return 1


def register(subparsers: Any) -> None:
    """Add `tokens create` and `tokens revoke` to the `siaga` command line."""
    p = subparsers.add_parser("tokens", help="API bearer tokens (roles and scopes)")
    sub = p.add_subparsers(dest="tokens_command", required=True)
    c = sub.add_parser(
        "create",
        help="create a token (printed once) for a role and its scope",
        description="command_post needs --posko; warehouse_staff needs --warehouse; "
        "coordinator takes --province (omit for national); admin takes none.",
    )
    c.add_argument("--role", required=True, choices=tokens.ROLES)
    scope = c.add_mutually_exclusive_group()
    scope.add_argument("--posko", metavar="ID", help="command_post: its posko id")
    scope.add_argument("--warehouse", metavar="ID", help="warehouse_staff: its warehouse id")
    scope.add_argument("--province", metavar="CODE", help="coordinator: province code, e.g. 32")
    c.add_argument("--label", help="who holds it (free text, for audits)")
    c.add_argument("--json", action="store_true", help="print token and scope as JSON")
    c.set_defaults(func=cmd_create)
    r = sub.add_parser("revoke", help="revoke a token")
    r.add_argument("token")
    r.set_defaults(func=cmd_revoke)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="siaga")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["tokens", *(argv if argv is not None else sys.argv[1:])])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
