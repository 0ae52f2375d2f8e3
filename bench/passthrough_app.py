"""A pass-through faust agent (the reference for bench.pipeline): topic IN → topic OUT.

Run: python -m bench.passthrough_app BOOTSTRAP APP_ID IN OUT DATA_DIR [PROFILE]
Uses the same faust options as Siaga's worker (PROFILE: ``local`` for Tansu, the default,
or ``production`` for Apache Kafka), so the ratio compares Siaga's processing with faust's
own per-event cost on the same broker.
"""

from __future__ import annotations

import sys
from pathlib import Path

import faust

from siaga.settings import Settings
from streams.app import faust_options


def main() -> None:
    bootstrap, app_id, source, sink, data_dir = sys.argv[1:6]
    profile = sys.argv[6] if len(sys.argv) > 6 else "local"
    if profile not in ("local", "production"):
        raise SystemExit(f"unknown profile {profile!r}: local or production")
    if profile == "local":
        from streams.app import _shorten_fetch_wait_for_local_broker

        _shorten_fetch_wait_for_local_broker()  # as create_app does for Siaga's worker
    settings = Settings(
        kafka_bootstrap_servers=bootstrap,
        redis_url="redis://unused",
        kafka_profile=profile,  # type: ignore[arg-type]
        app_id=app_id,
        data_dir=Path(data_dir),
    )
    options = faust_options(settings)
    Path(options["datadir"]).mkdir(parents=True, exist_ok=True)
    app = faust.App(app_id, **options)
    src = app.topic(source, key_type=bytes, value_type=bytes, value_serializer="raw",
                    key_serializer="raw")
    dst = app.topic(sink, key_type=bytes, value_type=bytes, value_serializer="raw",
                    key_serializer="raw")

    @app.agent(src)
    async def passthrough(stream):  # type: ignore[no-untyped-def]
        async for event in stream.events():
            await dst.send(key=event.key, value=event.value)

    faust.Worker(app, loglevel="info", quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
