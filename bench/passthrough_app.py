"""A pass-through faust agent (the reference for bench.pipeline): topic IN → topic OUT.

Run: python -m bench.passthrough_app BOOTSTRAP APP_ID IN OUT DATA_DIR
Uses the same faust options as Siaga's worker (local profile), so the ratio compares
Siaga's processing with faust's own per-event cost on the same broker.
"""

from __future__ import annotations

import sys
from pathlib import Path

import faust

from siaga.settings import Settings
from streams.app import faust_options


def main() -> None:
    bootstrap, app_id, source, sink, data_dir = sys.argv[1:6]
    settings = Settings(
        kafka_bootstrap_servers=bootstrap,
        redis_url="redis://unused",
        kafka_profile="local",
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
