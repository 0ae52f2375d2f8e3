"""The pipeline as Kafka sees it: consumer-group lag and what lies on the dead-letter topic.

Read from the broker, not from the workers (a stopped worker reports nothing, but its
group's committed offsets still say how far behind it is): committed offsets of the
workers' consumer group (the faust app id) against the end offsets of Siaga's topics, and
the dead-letter topic read once from the start and then incrementally, counted by source
topic and reason kind (:func:`siaga.metrics.reason_kind`). The API's ``/metrics`` serves
it as ``siaga_pipeline_*`` (one scrape target for the whole pipeline's health);
``siaga status`` prints it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from siaga.catalogue import DEADLETTER, OUTPUT_TOPICS
from siaga.metrics import reason_kind, short_topic
from siaga.settings import Settings, kafka_client_options

log = logging.getLogger(__name__)


class PipelineView:
    """Holds a consumer (no group: it commits nothing) and an admin client."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._consumer: Any = None  # offsets and metadata only (never assigned)
        self._reader: Any = None  # reads the dead-letter topic
        self._admin: Any = None
        self._dlq_seen: Counter[tuple[str, str]] = Counter()
        self._dlq_positions: dict[Any, int] = {}
        self._lock = asyncio.Lock()
        self.last: dict[str, Any] | None = None
        self.last_error: str | None = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaConsumer
        from aiokafka.admin import AIOKafkaAdminClient

        bootstrap = self.settings.require_kafka()
        options = kafka_client_options(self.settings)
        self._consumer, self._reader = (
            AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             group_id=None, request_timeout_ms=10_000, **options)
            for _ in range(2)
        )
        await self._consumer.start()
        await self._reader.start()
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **options)
        await self._admin.start()

    async def stop(self) -> None:
        for client in (self._consumer, self._reader, self._admin):
            if client is not None:
                try:
                    await asyncio.wait_for(client.close() if client is self._admin
                                           else client.stop(), timeout=5)
                except Exception:  # noqa: BLE001 - on the way out
                    pass
        self._consumer = self._reader = self._admin = None

    async def _topics(self) -> tuple[list[str], list[Any]]:
        """Siaga's topics and their partitions, from the whole cluster's metadata."""
        from aiokafka import TopicPartition

        cluster = await self._consumer._client.fetch_all_metadata()
        prefix = self.settings.topic_prefix + "."
        topics = sorted(t for t in cluster.topics() if t.startswith(prefix))
        partitions = [TopicPartition(topic, p) for topic in topics
                      for p in sorted(cluster.partitions_for_topic(topic) or ())]
        return topics, partitions

    async def refresh(self, read_budget: float = 3.0) -> dict[str, Any]:
        """Read the lag and the new dead letters now; returns the snapshot (also kept in
        :attr:`last`)."""
        async with self._lock:
            try:
                snapshot = await self._refresh(read_budget)
            except Exception as exc:  # noqa: BLE001 - a scrape reports it instead of failing
                self.last_error = f"{type(exc).__name__}: {exc}"
                raise
            self.last, self.last_error = snapshot, None
            return snapshot

    async def _refresh(self, read_budget: float) -> dict[str, Any]:
        dlq_topic = self.settings.topic(DEADLETTER)
        topics, partitions = await self._topics()
        ends = await self._consumer.end_offsets(partitions) if partitions else {}
        starts = await self._consumer.beginning_offsets(partitions) if partitions else {}
        group = self.settings.app_id
        # explicit partitions: asking for "all of the group's" (partitions=None) gets a reply
        # from Tansu that aiokafka cannot parse; Apache Kafka answers both
        committed = (await self._admin.list_consumer_group_offsets(group, partitions=partitions)
                     if partitions else {})
        # what the workers consume: every topic of ours but the outputs (read by others)
        # and the dead letters, and whatever the group has committed on
        not_consumed = {self.settings.topic(t) for t in (*OUTPUT_TOPICS, DEADLETTER)}
        consumed_topics = {t for t in topics if t not in not_consumed}
        consumed_topics |= {tp.topic for tp, meta in committed.items() if meta.offset >= 0}
        rows = []
        for tp in partitions:
            if tp.topic not in consumed_topics:
                continue
            meta = committed.get(tp)
            offset = meta.offset if meta is not None and meta.offset >= 0 else None
            end = int(ends.get(tp, 0))
            # never committed: behind by everything the log still holds
            position = offset if offset is not None else int(starts.get(tp, 0))
            rows.append({
                "topic": short_topic(tp.topic, self.settings.topic_prefix),
                "partition": tp.partition,
                "committed": offset,
                "end": end,
                "lag": max(0, end - position),
            })
        await self._read_deadletters(
            [tp for tp in partitions if tp.topic == dlq_topic], ends, read_budget
        )
        return {
            "group": group,
            "lag": rows,
            "total_lag": sum(r["lag"] for r in rows),
            "deadletters": [
                {"topic": topic, "reason": reason, "count": count}
                for (topic, reason), count in sorted(self._dlq_seen.items())
            ],
            "deadletters_total": sum(self._dlq_seen.values()),
            "read_at": time.time(),
        }

    async def _read_deadletters(self, tps: list[Any], ends: dict[Any, int],
                                budget: float) -> None:
        if not tps:
            return
        new = [tp for tp in tps if tp not in self._dlq_positions]
        if new:
            self._reader.assign(sorted(set(self._dlq_positions) | set(tps)))
            for tp in new:
                self._dlq_positions[tp] = 0
            await self._reader.seek_to_beginning(*new)
            for tp in self._dlq_positions:
                if tp not in new:
                    self._reader.seek(tp, self._dlq_positions[tp])
        deadline = time.monotonic() + budget
        while time.monotonic() < deadline:
            behind = [tp for tp in tps if self._dlq_positions[tp] < int(ends.get(tp, 0))]
            if not behind:
                return
            batch = await self._reader.getmany(*behind, timeout_ms=200, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    topic, reason = parked_origin(record.value, self.settings.topic_prefix)
                    self._dlq_seen[(topic, reason_kind(reason))] += 1
                    self._dlq_positions[tp] = record.offset + 1


def parked_origin(value: bytes | None, prefix: str) -> tuple[str, str]:
    """(source topic, reason) of a dead-letter record (``streams/deadletter.py``)."""
    try:
        parked = json.loads(value or b"")
        return short_topic(str(parked.get("topic")), prefix), str(parked.get("reason") or "")
    except (ValueError, AttributeError):
        return "unknown", "unreadable dead letter"


class PipelineCollector(Collector):
    """The last snapshot as ``siaga_pipeline_*`` gauges (for a registry of its own)."""

    def __init__(self, view: PipelineView) -> None:
        self.view = view

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily(
            "siaga_pipeline_view_up", "1 when the last read of the pipeline from Kafka worked"
        )
        up.add_metric([], 0 if self.view.last_error or self.view.last is None else 1)
        yield up
        snapshot = self.view.last
        if snapshot is None:
            return
        lag = GaugeMetricFamily(
            "siaga_pipeline_consumer_lag",
            "Records the workers' consumer group is behind (end offset - committed offset)",
            labels=["group", "topic", "partition"],
        )
        for row in snapshot["lag"]:
            lag.add_metric([snapshot["group"], row["topic"], str(row["partition"])], row["lag"])
        yield lag
        total = GaugeMetricFamily(
            "siaga_pipeline_consumer_lag_total", "Sum of the consumer group's lag",
            labels=["group"],
        )
        total.add_metric([snapshot["group"]], snapshot["total_lag"])
        yield total
        parked = GaugeMetricFamily(
            "siaga_pipeline_deadletters",
            "Records on the dead-letter topic, by source topic and reason kind",
            labels=["topic", "reason"],
        )
        for row in snapshot["deadletters"]:
            parked.add_metric([row["topic"], row["reason"]], row["count"])
        yield parked
