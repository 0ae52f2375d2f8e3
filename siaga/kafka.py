"""Kafka admin helpers: create the catalogue's topics with explicit configurations, check
the broker is reachable.

Topic configurations (:func:`topic_configs`), set when a topic is created and brought back
into line by :func:`ensure_topics` when an existing topic differs:

- input topics (incidents, shelters, warehouses, teams, shipments) keep every record
  forever: they are the system of record, replayed to rebuild state;
- ``state-changes`` too: ``siaga rebuild-readmodels`` re-applies it from the beginning,
  so a time limit would silently drop every entity not changed within it;
- ``stock-moves`` too: a departure from another province's warehouse is a stock fact;
- ``deadletter`` forever: a parked record waits for a human;
- the other internal and output topics (re-plan triggers, escalations, national results,
  plans, dispatch, shortfalls) are derived and re-emitted by the planners: 7 days;
- ``min.insync.replicas`` 2 wherever the replication factor is 3 or more, else 1;
- faust's table changelogs (:func:`changelog_topic_configs`): compacted, same min ISR.

Tansu (the light local broker) accepts and ignores topic configurations.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from siaga.catalogue import (
    DEADLETTER,
    INTERNAL_TOPICS,
    STATE_CHANGES,
    STOCK_MOVES,
    TOPICS,
)
from siaga.settings import Settings, kafka_client_options

log = logging.getLogger(__name__)

FOREVER = "-1"
DERIVED_RETENTION_MS = str(7 * 24 * 3600 * 1000)
#: topics besides the input topics whose records are kept forever (see the module docstring)
KEPT_FOREVER = frozenset({STATE_CHANGES, STOCK_MOVES, DEADLETTER})


def topic_names(settings: Settings) -> list[str]:
    return [settings.topic(spec.name) for spec in TOPICS] + [
        settings.topic(name) for name in INTERNAL_TOPICS
    ]


def min_insync_replicas(settings: Settings) -> str:
    """2 when the replication factor is 3 or more (one broker may be down and every write
    is still on two), else 1 (a smaller factor could not accept writes with a broker down)."""
    return "2" if settings.replication_factor >= 3 else "1"


def topic_configs(settings: Settings, short_name: str) -> dict[str, str]:
    """The configuration of catalogue topic ``short_name`` (``incidents``, ``replan`` …)."""
    inputs = {spec.name for spec in TOPICS}
    if short_name not in inputs and short_name not in INTERNAL_TOPICS:
        raise KeyError(f"{short_name!r} is not a catalogue topic")
    configs = {
        "cleanup.policy": "delete",
        "min.insync.replicas": min_insync_replicas(settings),
    }
    if short_name in inputs or short_name in KEPT_FOREVER:
        configs["retention.ms"] = FOREVER
        configs["retention.bytes"] = FOREVER
    else:
        configs["retention.ms"] = DERIVED_RETENTION_MS
        configs["retention.bytes"] = FOREVER  # bounded by time, not size
    return configs


# Changelog segments: Kafka compacts only closed segments, 1 GB by default, so a changelog
# kept every version a re-plan ever wrote and a restart read them all (tens of MB per large
# province in minutes of re-plans; 241 s to recover 20,000 shelters). Smaller segments, rolled
# at least every 15 minutes, and a lower dirty ratio let the cleaner keep a changelog near the
# size of the state it holds.
CHANGELOG_SEGMENT_BYTES = 16 * 1024 * 1024
CHANGELOG_SEGMENT_MS = 15 * 60 * 1000
CHANGELOG_DIRTY_RATIO = "0.2"


def changelog_topic_configs(settings: Settings) -> dict[str, str]:
    """Extra configuration of faust's table changelog topics: compacted (faust makes them so
    already; said again here so no broker default can change it), in segments small and
    young enough for the log cleaner to compact them during an operation."""
    return {
        "cleanup.policy": "compact",
        "min.insync.replicas": min_insync_replicas(settings),
        "segment.bytes": str(CHANGELOG_SEGMENT_BYTES),
        "segment.ms": str(CHANGELOG_SEGMENT_MS),
        "min.cleanable.dirty.ratio": CHANGELOG_DIRTY_RATIO,
    }


async def _align_configs(
    admin: AIOKafkaAdminClient, wanted: dict[str, dict[str, str]]
) -> list[str]:
    """Alter the existing topics whose configuration differs from ``wanted``; returns those
    altered. A broker that does not answer config requests (Tansu) is left alone."""
    if not wanted:
        return []
    names = sorted(wanted)
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        )
    except Exception as exc:  # noqa: BLE001 - Tansu and other non-Kafka brokers
        log.info("topic configurations not checked (%s: %s)", type(exc).__name__, exc)
        return []
    current: dict[str, dict[str, str]] = {}
    for response in responses:
        for error_code, _msg, _type, name, entries in response.resources:
            if error_code == 0:
                current[name] = {entry[0]: entry[1] for entry in entries}
    stale = [
        name
        for name in names
        if name in current
        and any(current[name].get(key) != value for key, value in wanted[name].items())
    ]
    if not stale:
        return []
    try:
        # AlterConfigs replaces a topic's dynamic configuration: send the whole of it
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, wanted[name]) for name in stale]
        )
    except Exception as exc:  # noqa: BLE001 - keep running; the topics still work
        log.warning("could not update the configuration of %s: %s", ", ".join(stale), exc)
        return []
    log.info("topic configuration updated: %s", ", ".join(stale))
    return stale


# Errors a topic creation meets on a broker that is still starting: worth another try.
# INVALID_REPLICATION_FACTOR (38) is what a KRaft broker answers until it is unfenced.
_TRANSIENT_CREATE_ERRORS = frozenset({7, 38, 41})  # REQUEST_TIMED_OUT, NOT_CONTROLLER


async def _create(
    admin: AIOKafkaAdminClient,
    settings: Settings,
    shorts: list[str],
    created: list[str],
    existing: set[str],
) -> dict[str, tuple[str, bool]]:
    """Create ``shorts`` in one request; fills ``created``/``existing``; returns the failures
    as ``short name -> (why, worth a retry)``."""
    by_name = {settings.topic(short): short for short in shorts}
    response = await admin.create_topics(
        [
            NewTopic(
                name,
                num_partitions=settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=topic_configs(settings, short),
            )
            for name, short in by_name.items()
        ]
    )
    failed: dict[str, tuple[str, bool]] = {}
    # errors come back per topic in the response, not as exceptions
    for name, code, *rest in response.topic_errors:
        if code == 0:
            created.append(name)
        elif code == TopicAlreadyExistsError.errno:
            existing.add(name)
        else:
            error = for_code(code)
            why = f"{error.__name__}" + (f" ({rest[0]})" if rest and rest[0] else "")
            retry = code in _TRANSIENT_CREATE_ERRORS or bool(getattr(error, "retriable", False))
            failed[by_name[name]] = (why, retry)
    return failed


async def ensure_topics(settings: Settings, timeout: float = 30) -> list[str]:
    """Create every catalogue topic that does not exist yet, with :func:`topic_configs`;
    bring existing ones to those configurations; returns the topics created."""
    bootstrap = settings.require_kafka()
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=int(timeout * 1000),
        **kafka_client_options(settings),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        shorts = [spec.name for spec in TOPICS] + list(INTERNAL_TOPICS)
        missing = [short for short in shorts if settings.topic(short) not in existing]
        created: list[str] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while missing:
            failed = await _create(admin, settings, missing, created, existing)
            transient = {short: why for short, (why, retry) in failed.items() if retry}
            if len(transient) < len(failed) or (
                transient and asyncio.get_running_loop().time() >= deadline
            ):
                raise KafkaError(
                    "could not create topics: "
                    + "; ".join(f"{settings.topic(s)}: {why}" for s, (why, _) in failed.items())
                )
            missing = list(transient)
            if missing:
                # a broker that just started (or restarted after a crash) answers metadata
                # before it is registered and unfenced: creation fails for a few seconds
                log.info("topic creation retried: %s", "; ".join(transient.values()))
                await asyncio.sleep(0.5)
        await _align_configs(
            admin,
            {
                settings.topic(short): topic_configs(settings, short)
                for short in shorts
                if settings.topic(short) in existing
            },
        )
        return created
    finally:
        await admin.close()


async def wait_for_broker(
    bootstrap: str, timeout: float = 30, client_options: dict[str, Any] | None = None
) -> None:
    """Return once the broker answers a metadata request, or raise TimeoutError.
    ``client_options``: :func:`siaga.settings.kafka_client_options` (authentication)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Exception | None = None
    while asyncio.get_running_loop().time() < deadline:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=3000, **(client_options or {})
        )
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as exc:
            last = exc
            await asyncio.sleep(0.2)
        finally:
            await admin.close()
    raise TimeoutError(f"broker {bootstrap} not reachable after {timeout:.0f} s: {last}")
