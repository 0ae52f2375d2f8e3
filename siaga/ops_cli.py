"""`siaga status` and `siaga deadletter list|show|replay`: for the person on duty."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from siaga.settings import get_settings


def _quiet_clients() -> None:
    """The duty screens are for people: the Kafka client's INFO chatter stays out."""
    import logging

    logging.getLogger("aiokafka").setLevel(logging.WARNING)


async def _with_redis(work: Any) -> Any:
    from redis.asyncio import Redis

    settings = get_settings()
    _, redis_url = settings.require_services()
    redis = Redis.from_url(redis_url)
    try:
        return await work(settings, redis)
    finally:
        await redis.aclose()


def cmd_status(args: argparse.Namespace) -> int:
    """Exit 0, or 1 when the broker or Redis could not be reached (the screen says which)."""
    from siaga.status import dumps, reachable, render, status_screen

    _quiet_clients()
    screen = asyncio.run(_with_redis(status_screen))
    print(dumps(screen) if args.json else render(screen))
    return 0 if reachable(screen) else 1


def cmd_deadletter(args: argparse.Namespace) -> int:
    from siaga import deadletters as dl

    _quiet_clients()
    settings = get_settings()
    try:
        if args.action == "list":
            letters = asyncio.run(dl.list_deadletters(
                settings, topic=args.topic, reason=args.reason, since=args.since,
                until=args.until, limit=args.limit,
            ))
            if args.json:
                print(json.dumps([letter.summary() for letter in letters], indent=2))
                return 0
            if not letters:
                print("no dead letters match")
            for letter in letters:
                print(f"{letter.id:>8}  {letter.failed_at or '?':25}  {letter.topic:14} "
                      f"{letter.event_id or '-':36}  {letter.reason[:100]}")
            return 0
        if args.action == "show":
            print(json.dumps(asyncio.run(dl.show(settings, args.id)), indent=2))
            return 0
        value = Path(args.value_file).read_bytes() if args.value_file else None

        async def work(settings: Any, redis: Any) -> Any:
            return await dl.replay(settings, redis, args.ids, value=value, force=args.force)

        from siaga import tracing

        tracing.configure(settings, "siaga-cli")  # the replays' spans, when exported
        try:
            outcomes = asyncio.run(_with_redis(work))
        finally:
            tracing.shutdown()
        for outcome in outcomes:
            state = "replayed" if outcome["replayed"] else "skipped"
            trace = f", trace {outcome['trace_id']}" if outcome.get("trace_id") else ""
            print(f"{outcome['id']}: {state} ({outcome['why']}{trace})")
        return 0
    except dl.DeadLetterError as exc:
        print(f"siaga deadletter: {exc}", file=sys.stderr)
        return 2


def register(sub: Any) -> None:
    p = sub.add_parser(
        "status",
        help="one screen for the person on duty: lag, dead letters, the picture's age, "
        "each province's last plan",
    )
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("deadletter", help="list, show and replay parked records")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("list", help="dead letters, newest first")
    q.add_argument("--topic", help="source topic, short name (e.g. shelters)")
    q.add_argument("--reason", help="part of the reason (case-insensitive)")
    q.add_argument("--since", help="parked at or after this ISO time")
    q.add_argument("--until", help="parked at or before this ISO time")
    q.add_argument("--limit", type=int, default=100)
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_deadletter)
    q = actions.add_parser("show", help="one dead letter with its original bytes")
    q.add_argument("id", help="partition-offset on the dead-letter topic, e.g. 2-17")
    q.set_defaults(func=cmd_deadletter)
    q = actions.add_parser(
        "replay",
        help="re-produce the original bytes to the original topic (once per event id)",
    )
    q.add_argument("ids", nargs="+", help="dead-letter ids (partition-offset)")
    q.add_argument("--value-file", help="send these corrected bytes instead (one id only)")
    q.add_argument("--force", action="store_true", help="replay even if already replayed")
    q.set_defaults(func=cmd_deadletter)
