"""The `siaga` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from siaga.settings import get_settings


def _configure_logging(level: str) -> None:
    if get_settings().log_format == "json":
        from siaga.tracing import json_handler

        logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                            handlers=[json_handler()])
        return
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def cmd_run(args: argparse.Namespace) -> int:
    from siaga.runner import run

    return run(get_settings(), scenario=args.scenario, speed=args.speed, broker=args.broker)


def cmd_worker(args: argparse.Namespace) -> int:
    import faust  # noqa: F401 - imported here so `siaga --help` stays fast

    from logistics import warm_up
    from streams.app import create_app

    settings = get_settings()
    # compile the allocation solver before consuming (seconds once per machine, then cached),
    # so the first re-plan does not block the event loop
    took = warm_up()
    if took > 2:
        print(f"siaga worker: allocation solver compiled in {took:.1f} s (cached from now on)",
              flush=True)
    app, _ = create_app(settings)
    from siaga.metrics import serve_worker_metrics

    port = serve_worker_metrics(settings.worker_metrics_host, settings.worker_metrics_port)
    print(f"siaga worker: metrics on http://{settings.worker_metrics_host}:{port}/metrics",
          flush=True)
    from siaga.tracing import configure

    configure(settings, "siaga-worker")  # spans exported only when an endpoint is set
    if settings.log_format == "json":
        from siaga.tracing import json_logging_config

        # faust.Worker takes its logging from the app's configuration; a whole logging
        # config (not extra handlers), or faust's coloured text handler stays beside it
        app.conf.logging_config = json_logging_config(settings.log_level)
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), quiet=True)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        _exit_without_teardown(exc.code)
    _exit_without_teardown(0)


def _exit_without_teardown(code: Any) -> NoReturn:
    """End a stopped worker at once. faust has stopped it by now (offsets committed,
    changelogs acknowledged); what is left is the interpreter freeing every object one by
    one, and a worker holding 20,000 shelters holds millions (its tables' rows): it took
    more than 7 s after "Closing event loop", past the 10 s ``siaga run`` gives a worker
    to stop, and it was killed. Pending spans and log lines are written first; the
    planning process notices its parent is gone within a second and exits."""
    import os

    from siaga.tracing import shutdown as shutdown_tracing

    try:
        shutdown_tracing()
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else (0 if code is None else 1))


def cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    settings.require_services()
    # JSON logs: uvicorn's own loggers go through the root handler set up in main()
    uvicorn_logging: dict[str, Any] = {"log_config": None} if settings.log_format == "json" else {}
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=5,
        **uvicorn_logging,
    )
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from siaga.kafka import ensure_topics

    created = asyncio.run(ensure_topics(get_settings()))
    for name in created:
        print(f"created {name}")
    print(f"{len(created)} topic(s) created")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 when the broker and Redis answer (a container healthcheck)."""
    from redis import Redis

    from siaga.kafka import wait_for_broker
    from siaga.settings import kafka_client_options

    settings = get_settings()
    bootstrap, redis_url = settings.require_services()
    try:
        asyncio.run(wait_for_broker(bootstrap, timeout=args.timeout,
                                    client_options=kafka_client_options(settings)))
        Redis.from_url(redis_url, socket_timeout=args.timeout).ping()
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    print("ok")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from siaga.rebuild import main as rebuild_main

    return rebuild_main(get_settings())


def cmd_docs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from siaga.catalogue import write_docs

    for path in write_docs(Path(args.root)):
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siaga", description="Siaga: disaster-response logistics for Kemensos"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "run",
        help="run the whole system on this machine, supervised (its own broker and Redis "
        "unless SIAGA_KAFKA_BOOTSTRAP_SERVERS / SIAGA_REDIS_URL are set)",
    )
    p.add_argument(
        "--broker",
        choices=("kafka", "tansu"),
        default=None,
        help="the local broker: kafka = Apache Kafka, durable under <data dir>/kafka (the "
        "default when Java >= 17 is there); tansu = in memory, keeps nothing across a restart",
    )
    p.add_argument("--scenario", help="replay a real past disaster once running, e.g. cianjur-2022")
    p.add_argument("--speed", type=float, default=60.0, help="replay speed (x real time)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("worker", help="run one stream worker (needs Kafka and Redis settings)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("api", help="run the HTTP API (needs Kafka and Redis settings)")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser("topics", help="create the catalogue's topics if missing")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("check", help="exit 0 when Kafka and Redis answer (healthcheck)")
    p.add_argument("--timeout", type=float, default=5.0)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "rebuild-readmodels",
        help="clear the Redis read models and rebuild them from Kafka (siaga.state-changes)",
    )
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("docs", help="regenerate docs/events.md and docs/schemas from the code")
    p.add_argument("--root", default=".", help="project root (default: current directory)")
    p.set_defaults(func=cmd_docs)

    from api.tokens_cli import register as register_tokens
    from geo.cli import register as register_geo
    from siaga.ops_cli import register as register_ops
    from siaga.replay import register as register_replay

    register_ops(sub)
    register_geo(sub)
    register_replay(sub)
    register_tokens(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command not in ("worker",):
        _configure_logging(get_settings().log_level)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
