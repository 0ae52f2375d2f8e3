"""The faust application: built from settings in one place, nothing connects at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
from redis.asyncio import Redis

from siaga.catalogue import DEADLETTER, QUICK_VIEWS, REPLAN, STATE_CHANGES
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
    health: Any = None
    # the planner's memory: input revisions of each province's last plan, and the view
    # hashes kept in memory (see streams/store.py MEMORY_VIEWS)
    planned_revisions: dict[str, Any] = field(default_factory=dict)
    view_hashes: dict[str, Any] = field(default_factory=dict)
    # shelters given a quick view since their province's last plan started (streams/shelters.py):
    # that plan's view of them is sent again whatever its hash
    quick_viewed: dict[str, set[str]] = field(default_factory=dict)
    # per province, the offset of the newest quick view the broker acknowledged and of the
    # newest one projected: a plan's views wait until the quick views of the reports it read
    # are shown (streams/planner.py quick_views_shown)
    quick_acked: dict[str, int] = field(default_factory=dict)
    quick_projected: dict[str, int] = field(default_factory=dict)
    # seconds the last plan of each province took (the planner waits for a burst to settle
    # in proportion)
    plan_seconds: dict[str, float] = field(default_factory=dict)
    # whether each province's inputs changed while its last plan was made, and when that
    # plan's outputs were written (monotonic s): streams.planner.streaming
    plan_streaming: dict[str, tuple[bool, float]] = field(default_factory=dict)
    # streams.planpool.PlanPool: the provinces' plans and the national tier's
    plan_pool: Any = None
    # streams.looplag.LoopWatch: how long handlers hold the event loop
    loop_watch: Any = None
    _redis: Redis | None = None
    _producer: Any = None
    _producer_lock: Any = None

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            self._redis = Redis.from_url(self.redis_url)
        return self._redis

    async def send(self, short_name: str, key: bytes | None, value: bytes) -> Any:
        """Send one of Siaga's own records (outputs, state changes, re-plan requests, dead
        letters); returns the future of the broker's acknowledgement.

        Siaga's records go through a producer of their own that batches normally (faust's
        producer carries the table changelogs, and the local profile restricts it to one
        record per request — see docs/local-broker.md): a re-plan's thousands of records
        then travel in a few requests on either broker.
        """
        producer = self._producer or await self._start_producer()
        from siaga.tracing import outgoing_headers

        return await producer.send(self.settings.topic(short_name), value=value, key=key,
                                   headers=outgoing_headers(key, short_name))

    async def _start_producer(self) -> Any:
        import asyncio

        from aiokafka import AIOKafkaProducer

        if self._producer_lock is None:
            self._producer_lock = asyncio.Lock()
        async with self._producer_lock:
            if self._producer is None:
                bootstrap, _ = self.settings.require_services()
                from siaga.settings import kafka_client_options

                producer = AIOKafkaProducer(
                    **kafka_client_options(self.settings),
                    bootstrap_servers=bootstrap,
                    acks="all",
                    # idempotent on Apache Kafka (a retried request is not written twice);
                    # Tansu cannot (InitProducerId fails): the local profile goes without
                    enable_idempotence=self.settings.kafka_profile == "production",
                    linger_ms=5,
                    max_batch_size=256 * 1024,
                    max_request_size=1024 * 1024,
                    request_timeout_ms=60_000,
                )
                await producer.start()
                self._producer = producer
        return self._producer

    async def reset_producer(self) -> None:
        """Drop the producer after a failed send: an idempotent producer whose batch was
        refused keeps failing every later send (OutOfOrderSequenceNumber); a new one gets a
        new producer id. Unsent records of the old one are sent again by the retried batch."""
        import asyncio

        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), timeout=5)
            except Exception:  # noqa: BLE001 - it is being thrown away
                pass

    async def close(self) -> None:
        if self.plan_pool is not None:
            self.plan_pool.close()
        if self._producer is not None:
            try:
                await self._producer.stop()
            finally:
                self._producer = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

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
    # Table changelogs: a re-plan of a large province writes tens of thousands of rows;
    # faust's 16 KB batches made that a round trip per few rows (a minute of flushing per
    # big plan). Batches up to 512 KB (under the broker's 1 MB message.max.bytes); no
    # compression (CPU, not the loopback network, is what a 2-core machine lacks).
    options["producer_max_batch_size"] = 512 * 1024
    options["producer_linger"] = 0.005
    if settings.kafka_security_protocol != "PLAINTEXT":
        from siaga.settings import kafka_client_options

        client = kafka_client_options(settings)
        if settings.kafka_security_protocol.startswith("SASL_"):
            options["broker_credentials"] = faust.SASLCredentials(
                username=settings.kafka_sasl_username,
                password=settings.kafka_sasl_password,
                mechanism=settings.kafka_sasl_mechanism,
                ssl_context=client.get("ssl_context"),
            )
        else:
            options["broker_credentials"] = faust.SSLCredentials(client["ssl_context"])
    if settings.kafka_profile == "local":
        # Tansu (the embedded broker) recovers faust tables correctly only when each
        # produce request holds one record; see docs/local-broker.md. Never in production.
        options["producer_max_batch_size"] = 1
        # Promoting a standby replica on takeover relies on the broker's end offsets, which
        # Tansu reports wrongly; recover from the changelog instead (docs/local-broker.md).
        options["table_standby_replicas"] = 0
        options["broker_session_timeout"] = 6
        options["broker_heartbeat_interval"] = 1
    return options


LOCAL_FETCH_MAX_WAIT_MS = 100


def _shorten_fetch_wait_for_local_broker() -> None:
    """Local profile only: Tansu answers a fetch only when its max wait expires, even when
    records are waiting (Apache Kafka answers as soon as there is data), and faust fixes
    that wait at 1.5 s — which would add up to 1.5 s per hop. Shorten it for the embedded
    broker. See docs/local-broker.md."""
    import aiokafka
    import faust.transport.drivers.aiokafka as driver

    original = aiokafka.AIOKafkaConsumer
    if getattr(driver.aiokafka.AIOKafkaConsumer, "_siaga_local", False):  # type: ignore[attr-defined]
        return

    class LocalBrokerConsumer(original):  # type: ignore[misc, valid-type]
        _siaga_local = True

        def __init__(self, *topics: Any, **kwargs: Any) -> None:
            kwargs["fetch_max_wait_ms"] = min(
                kwargs.get("fetch_max_wait_ms", 500), LOCAL_FETCH_MAX_WAIT_MS
            )
            super().__init__(*topics, **kwargs)

    driver.aiokafka = _ModuleWith(  # type: ignore[attr-defined]
        aiokafka, AIOKafkaConsumer=LocalBrokerConsumer)


class _ModuleWith:
    """A view of a module with some attributes replaced (for the faust driver only)."""

    def __init__(self, module: Any, **replaced: Any) -> None:
        self._module = module
        self._replaced = replaced

    def __getattr__(self, name: str) -> Any:
        if name in self._replaced:
            return self._replaced[name]
        return getattr(self._module, name)


def _warm_geo() -> None:
    """Build the geo index (seconds) before taking traffic, so the first event does not
    stall the event loop while it is built."""
    import time

    import geo

    started = time.perf_counter()
    try:
        geo.resolve(-6.9, 107.6)
    except geo.GeoError:
        pass
    log.info("geo index ready in %.1f s", time.perf_counter() - started)


def create_app(settings: Settings) -> tuple[faust.App, StreamContext]:
    """Build the faust app and register every agent."""
    _, redis_url = settings.require_services()
    _warm_geo()
    if settings.kafka_profile == "local":
        _shorten_fetch_wait_for_local_broker()
    options = faust_options(settings)
    Path(options["datadir"]).mkdir(parents=True, exist_ok=True)
    # faust holds every input message while its producer buffer has more than this many
    # records (default 100); bulk writes are paced under it (streams/plumbing.py BUFFER_MAX)
    from faust.transport.producer import ProducerBuffer

    from streams.plumbing import BUFFER_MAX

    ProducerBuffer.max_messages = BUFFER_MAX
    app = faust.App(settings.app_id, **options)
    from streams.plumbing import Health

    ctx = StreamContext(settings=settings, app=app, redis_url=redis_url, health=Health())
    from streams.planpool import PlanPool

    ctx.plan_pool = PlanPool(settings.plan_processes)
    ctx.plan_pool.start()  # its imports and warm-up while the worker starts
    # the national tier plans in the same process as the provinces (0: in a thread). In a
    # process of its own it ran beside a province's plan on a 2-core machine and slowed
    # that plan down (2.7-3.1 s instead of 1.6-2.0 s at 2,000 shelters), for 250 MB more
    from streams.entities import (
        commit_after_changelogs,
        read_uncommitted_from_start,
        young_collections_while_waiting,
    )

    commit_after_changelogs(ctx)
    read_uncommitted_from_start(ctx)
    young_collections_while_waiting()
    from streams.offsets import watch_heads

    watch_heads(ctx)
    ctx.raw_topic(DEADLETTER)
    ctx.raw_topic(STATE_CHANGES)
    ctx.raw_topic(QUICK_VIEWS)
    ctx.raw_topic(REPLAN)

    # One module per input topic; each registers its agents and tables.
    from streams import (
        incidents,
        kitchens,
        national,
        planner,
        projector,
        shelters,
        shipments,
        teams,
        warehouses,
    )

    for module in (incidents, shelters, warehouses, teams, kitchens, shipments, planner,
                   national):
        module.register(ctx)
    projector.register(ctx)
    from streams import looplag, readiness

    readiness.register(ctx)
    looplag.register(ctx)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def _close_clients(app: faust.App, **kwargs: Any) -> None:
        await ctx.close()

    return app, ctx
