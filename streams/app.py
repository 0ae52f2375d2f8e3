"""The faust application: built from settings in one place, nothing connects at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
from redis.asyncio import Redis

from siaga.catalogue import DEADLETTER, REPLAN, STATE_CHANGES
from siaga.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class StreamContext:
    """What the agents share: settings, topics and clients, built once per worker."""

    settings: Settings
    app: faust.App
    redis_url: str
    topics: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    _redis: Redis | None = None

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            self._redis = Redis.from_url(self.redis_url)
        return self._redis

    def raw_topic(self, short_name: str) -> Any:
        if short_name not in self.topics:
            self.topics[short_name] = self.app.topic(
                self.settings.topic(short_name),
                key_type=bytes,
                value_type=bytes,
                key_serializer="raw",
                value_serializer="raw",
                partitions=self.settings.partitions,
            )
        return self.topics[short_name]


def faust_options(settings: Settings) -> dict[str, Any]:
    """Faust settings; the local profile adds the workarounds the embedded broker needs."""
    bootstrap, _ = settings.require_services()
    options: dict[str, Any] = {
        "broker": ",".join(f"kafka://{server.strip()}" for server in bootstrap.split(",")),
        "store": "memory://",
        "processing_guarantee": "at_least_once",
        "topic_partitions": settings.partitions,
        "topic_replication_factor": settings.replication_factor,
        "web_enabled": False,
        "datadir": str(settings.data_dir / "faust" / settings.app_id),
        "consumer_auto_offset_reset": "earliest",
        # Heartbeats well inside the session so a dead worker's partitions move quickly.
        "broker_session_timeout": 10,
        "broker_heartbeat_interval": 2,
    }
    if settings.kafka_profile == "local":
        # Tansu (the embedded broker) recovers faust tables correctly only when each
        # produce request holds one record; see docs/local-broker.md. Never in production.
        options["producer_max_batch_size"] = 1
        options["broker_session_timeout"] = 6
        options["broker_heartbeat_interval"] = 1
    return options


def create_app(settings: Settings) -> tuple[faust.App, StreamContext]:
    """Build the faust app and register every agent."""
    _, redis_url = settings.require_services()
    options = faust_options(settings)
    Path(options["datadir"]).mkdir(parents=True, exist_ok=True)
    app = faust.App(settings.app_id, **options)
    ctx = StreamContext(settings=settings, app=app, redis_url=redis_url)
    ctx.raw_topic(DEADLETTER)
    ctx.raw_topic(STATE_CHANGES)
    ctx.raw_topic(REPLAN)

    # One module per input topic; each registers its agents and tables.
    from streams import (
        incidents,
        national,
        planner,
        projector,
        shelters,
        shipments,
        teams,
        warehouses,
    )

    for module in (incidents, shelters, warehouses, teams, shipments, planner, national):
        module.register(ctx)
    projector.register(ctx)

    @app.on_before_shutdown.connect  # type: ignore[misc]
    async def _close_redis(app: faust.App, **kwargs: Any) -> None:
        if ctx._redis is not None:
            await ctx._redis.aclose()

    return app, ctx
