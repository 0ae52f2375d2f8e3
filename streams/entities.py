"""Per-entity state: faust tables keyed by one entity, placed on its province's partition.

A key is ``"<province>/<entity id>"`` (UTF-8 bytes), e.g. ``b"32/shelter-cugenang-01"``:
one shelter, one stock batch, one shipment, one team, one task. A change writes one
small changelog record, so nothing grows with the size of a disaster (a whole province
under one key passed Kafka's 1 MB record limit at about 100 shelters).

Placement: every topic is keyed by province code and hashed by the producer's default
partitioner (murmur2, as the Java client and aiokafka do), so a province's input events
sit on partition ``murmur2(code) % n``. :class:`EntityTable` sends each changelog record
to that same partition — computed from the key's province prefix, not from whichever
event happens to be current — so the worker that owns a province's input partition also
recovers all of that province's entities, wherever the write happened (a batch, a thread's
result written back, a timer).

Each table keeps an in-memory index province → keys, rebuilt after recovery, so the
planner reads one province without scanning the country.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator
from typing import Any

import faust
from aiokafka.partitioner import murmur2
from faust.stores.memory import Store as MemoryStore

from siaga.kafka import changelog_topic_configs

log = logging.getLogger(__name__)

SEPARATOR = "/"


def entity_key(province_code: str, entity_id: str) -> bytes:
    """The table key of one entity of a province."""
    return f"{province_code}{SEPARATOR}{entity_id}".encode()


def split_key(key: bytes | str) -> tuple[str, str]:
    """(province, entity id) of a table key."""
    text = key.decode() if isinstance(key, bytes) else key
    province, _, entity_id = text.partition(SEPARATOR)
    return province, entity_id


def partition_of(province_code: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a record keyed by this province."""
    return int((murmur2(province_code.encode()) & 0x7FFFFFFF) % partitions)


class KeepingStore(MemoryStore):  # type: ignore[type-arg]
    """faust's memory store, keeping what it holds for standby partitions and knowing up to
    which changelog offset it holds each partition.

    faust's memory store deletes, after every recovery, the rows of every partition that is
    not active here — the standby copies included — and reports no persisted offset, so a
    worker taking over a partition it kept a standby copy of read that changelog again from
    offset 0 (a takeover cost the full re-read; docs/local-broker.md). This store keeps the
    rows of active *and* standby partitions, and the offset it holds each partition up to:
    the last changelog record applied (recovery, standby) or acknowledged after this
    worker's own write. A partition taken over from a standby copy, or kept across a
    rebalance, then resumes right after that offset. A partition this worker no longer
    holds at all loses its rows and its offset together (it is read in full if it comes
    back)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._held_up_to: dict[Any, int] = {}
        self._active: set[Any] = set()  # as of the last completed recovery

    def apply_changelog_batch(self, batch: Any, to_key: Any, to_value: Any) -> None:
        events = list(batch)
        super().apply_changelog_batch(events, to_key, to_value)
        for event in events:
            tp = event.message.tp
            offset = int(event.message.offset)
            if offset > self._held_up_to.get(tp, -1):
                self._held_up_to[tp] = offset

    def note_local_key(self, key: Any, partition: int) -> None:
        """A row this worker wrote: forgotten with its partition, like the applied ones."""
        self._key_partition[key] = partition

    def persisted_offset(self, tp: Any) -> int | None:
        return self._held_up_to.get(tp)

    def set_persisted_offset(self, tp: Any, offset: int) -> None:
        # called when this worker's own changelog write is acknowledged: it holds the
        # partition up to there only if the partition is its own (recovered in full)
        if tp in self._active and offset > self._held_up_to.get(tp, -1):
            self._held_up_to[tp] = offset

    async def on_recovery_completed(self, active_tps: Any, standby_tps: Any) -> None:
        held = set(active_tps) | set(standby_tps)
        partitions = {tp.partition for tp in held}
        for key in [k for k, p in self._key_partition.items() if p not in partitions]:
            self.data.pop(key, None)
            self._key_partition.pop(key, None)
        for tp in [tp for tp in self._held_up_to if tp not in held]:
            del self._held_up_to[tp]
        # an active partition is recovered in full: one with no record applied had none
        self._active = set(active_tps)
        for tp in self._active:
            self._held_up_to.setdefault(tp, -1)


class EntityTable(faust.Table):  # type: ignore[type-arg]
    """A faust table of entities keyed ``<province>/<id>``, each on its province's partition."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._index: dict[str, dict[str, bytes]] | None = None
        # writes per province since this process started, and the epoch that changes when
        # recovery or a standby brings rows this process did not write itself
        self._revisions: dict[str, int] = {}
        self.epoch = 0
        # per province, changelog batches applied (a standby copy kept up to date): such
        # rows were not written here, but only their provinces need reading again
        self._province_epochs: dict[str, int] = {}
        # changelog records handed to faust's producer and not yet acknowledged by the broker
        self._unsent: set[Any] = set()
        # ids written or removed since the planner last read them, per province whose rows
        # the planning process keeps (streams/planpool.py: it is sent only what changed)
        self._changed: dict[str, set[str]] = {}

    # ---- changelog delivery
    def send_changelog(self, *args: Any, **kwargs: Any) -> Any:
        fut = super().send_changelog(*args, **kwargs)
        self._unsent.add(fut)
        fut.add_done_callback(self._unsent.discard)
        return fut

    async def changelog_sent(self) -> None:
        """Wait until every changelog record written so far is acknowledged by the broker.

        faust commits input offsets after ``producer.flush()``, but its buffer's flush
        gives up after 0.1 s without progress and leaves records in the buffer: a worker
        killed right after such a commit lost table rows whose input was already committed
        (a shelter's registration, a whole warehouse). :func:`commit_after_changelogs` makes
        the flush before a commit wait here, so a committed offset never runs ahead of the
        state. (Not the agents: a re-plan writes tens of thousands of rows through faust's
        one buffer, and an input batch waiting behind them stalled ingest for seconds.)
        """
        pending = list(self._unsent)  # those written so far: later ones are others' to wait for
        if not pending:
            return
        results = await asyncio.gather(*pending, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def _new_store_by_url(self, url: Any) -> Any:
        if str(url).startswith("memory:"):
            return KeepingStore(
                url, self.app, self, table_name=self.name, key_type=self.key_type,
                key_serializer=self.key_serializer, value_serializer=self.value_serializer,
                value_type=self.value_type, loop=self.loop, options=self.options)
        return super()._new_store_by_url(url)

    # ---- placement
    def partition_for_key(self, key: Any) -> int:
        province, _ = split_key(key)
        return partition_of(province, self.partitions or 1)

    # ---- the province index
    def _build_index(self) -> dict[str, dict[str, bytes]]:
        index: dict[str, dict[str, bytes]] = {}
        for key in list(self.data.keys()):
            province, entity_id = split_key(key)
            index.setdefault(province, {})[entity_id] = key
        return index

    @property
    def index(self) -> dict[str, dict[str, bytes]]:
        if self._index is None:
            self._index = self._build_index()
        return self._index

    def on_key_set(self, key: Any, value: Any) -> None:
        super().on_key_set(key, value)
        store = self.data
        if isinstance(store, KeepingStore):
            store.note_local_key(key, self.partition_for_key(key))
        province, entity_id = split_key(key)
        self._revisions[province] = self._revisions.get(province, 0) + 1
        if self._index is not None:
            self._index.setdefault(province, {})[entity_id] = key
        changed = self._changed.get(province)
        if changed is not None:
            changed.add(entity_id)

    def on_key_del(self, key: Any) -> None:
        super().on_key_del(key)
        province, entity_id = split_key(key)
        self._revisions[province] = self._revisions.get(province, 0) + 1
        if self._index is not None:
            self._index.get(province, {}).pop(entity_id, None)
        changed = self._changed.get(province)
        if changed is not None:
            changed.add(entity_id)

    def take_changed(self, province_code: str) -> set[str]:
        """The ids of a province written or removed (through this table, not by recovery or
        a standby: those change :meth:`epoch_of`) since the last call; the first call starts
        keeping them and returns an empty set."""
        taken = self._changed.get(province_code, set())
        self._changed[province_code] = set()
        return taken

    def forget_changed(self, province_code: str, entity_id: str) -> None:
        """Leave ``entity_id`` out of the next :meth:`take_changed` (the planning process
        already holds the row just written: its own plan's write)."""
        changed = self._changed.get(province_code)
        if changed is not None:
            changed.discard(entity_id)

    def epoch_of(self, province_code: str) -> tuple[int, int]:
        """Changes when rows of the province arrived other than through this table's writes:
        a recovery (:attr:`epoch`, every province) or changelog records applied to it (a
        standby copy, or recovery under way)."""
        return (self.epoch, self._province_epochs.get(province_code, 0))

    def revision(self, province_code: str) -> tuple[tuple[int, int], int]:
        """Changes to a province's rows: equal revisions mean the rows are the same."""
        return (self.epoch_of(province_code), self._revisions.get(province_code, 0))

    def apply_changelog_batch(self, batch: Any) -> None:
        # Standby copies receive the other workers' changelogs all the time: only the
        # provinces in the batch change (their epoch, their part of the index), so a
        # province this worker plans keeps its index, its view hashes and the planning
        # process's copy of its rows.
        events = list(batch)
        super().apply_changelog_batch(events)
        touched: dict[str, list[tuple[str, Any]]] = {}
        for event in events:
            key = self._to_key(event.key)
            province, entity_id = split_key(key)
            touched.setdefault(province, []).append((entity_id, key))
        data = self.data
        for province, entries in touched.items():
            self._province_epochs[province] = self._province_epochs.get(province, 0) + 1
            if self._index is not None:
                ids = self._index.setdefault(province, {})
                for entity_id, key in entries:
                    if key in data:
                        ids[entity_id] = key
                    else:
                        ids.pop(entity_id, None)

    async def on_recovery_completed(self, active_tps: Any, standby_tps: Any) -> None:
        await super().on_recovery_completed(active_tps, standby_tps)
        self._index = None
        self.epoch += 1

    # ---- reads and writes by (province, id)
    def ids(self, province_code: str) -> list[str]:
        return sorted(self.index.get(province_code, {}))

    def rows(self, province_code: str) -> dict[str, Any]:
        """Every entity of a province, ``{id: value}`` (the values as stored: do not mutate)."""
        data = self.data
        out: dict[str, Any] = {}
        for entity_id, key in self.index.get(province_code, {}).items():
            value = data.get(key)
            if value is not None:
                out[entity_id] = value
        return out

    def get_row(self, province_code: str, entity_id: str) -> Any:
        return self.data.get(entity_key(province_code, entity_id))

    def put(self, province_code: str, entity_id: str, value: Any) -> None:
        self[entity_key(province_code, entity_id)] = value

    def remove(self, province_code: str, entity_id: str) -> None:
        key = entity_key(province_code, entity_id)
        if key in self.data:
            del self[key]

    def provinces(self) -> Iterator[str]:
        return iter(sorted(p for p, ids in self.index.items() if ids))


async def changelogs_sent(ctx: Any) -> None:
    """Every changelog record of this worker's entity tables is acknowledged (see
    :meth:`EntityTable.changelog_sent`)."""
    for table in list(getattr(ctx, "tables", {}).values()):
        if isinstance(table, EntityTable):
            await table.changelog_sent()


def commit_after_changelogs(ctx: Any) -> None:
    """faust flushes its producer before it commits input offsets: make that flush wait until
    every changelog record written so far is acknowledged (see
    :meth:`EntityTable.changelog_sent`). Commits run in faust's own task, so agents never
    wait for it; a commit only waits for the rows of the records it covers (and those
    written meanwhile)."""
    producer = ctx.app.producer
    flush = producer.flush

    async def flush_with_changelogs() -> None:
        await changelogs_sent(ctx)
        await flush()

    producer.flush = flush_with_changelogs


def read_uncommitted_from_start(ctx: Any) -> None:
    """A partition with no committed offset (or 0) is read from its first record after
    every assignment, not from wherever the consumer's fetcher stands.

    faust seeks each input partition to its committed offset once the tables have
    recovered, but aiokafka's ``seek_to_committed`` leaves a partition alone when nothing was
    committed (``if offset and offset > 0``), and faust does not deliver what its consumer
    fetched while recovery held the streams back. A worker that took over a killed one's
    partitions before it committed any offset of them (a topic that had seen only a few
    records) started past the records fetched during its own recovery, and they were never
    processed: two public kitchens of a province and four teams were lost that way
    (tests/integration/test_worker_crash.py, about one run in two). Seeking such partitions
    to their beginning — what ``auto_offset_reset=earliest`` means — reads them again;
    folding is idempotent, so a record read twice changes nothing."""
    from aiokafka.structs import TopicPartition

    consumer = ctx.app.consumer
    seek_to_committed = consumer.seek_to_committed

    async def seek_to_committed_or_start() -> Any:
        committed = await seek_to_committed()
        # input partitions only: recovery places the changelogs' (a standby's reading goes
        # on from where it stands)
        changelogs = ctx.app.tables.changelog_topics
        fresh = sorted((tp for tp, offset in committed.items()
                        if not offset and tp.topic not in changelogs),
                       key=lambda tp: (tp.topic, tp.partition))
        if fresh:
            # on the consumer's own thread, as faust's seeks (aiokafka's partitions)
            await consumer._thread.seek_to_beginning(
                *(TopicPartition(tp.topic, tp.partition) for tp in fresh))
            log.info("read from their first record (nothing committed): %s",
                     ", ".join(f"{tp.topic}[{tp.partition}]" for tp in fresh))
        return committed

    consumer.seek_to_committed = seek_to_committed_or_start


class _YoungCollections:
    """Stands for the ``gc`` module inside faust's consumer module: its ``collect()``
    collects the young generations only (see :func:`young_collections_while_waiting`)."""

    @staticmethod
    def collect(generation: int = 1) -> int:
        return gc.collect(min(generation, 1))


def young_collections_while_waiting(consumer_module: Any = None) -> None:
    """faust's ``Consumer.wait_empty`` — run at every rebalance (partitions revoked) and at
    shutdown while an agent is still working on a batch — calls ``gc.collect()`` once per
    second it waits, to let go of messages only garbage cycles still hold. That is a full
    collection: it walks every object of the worker, and a worker holding 20,000 shelters
    holds millions (its tables' rows). py-spy caught a stopping worker in that call for
    seconds at a time, the event loop blocked meanwhile (during a rebalance: heartbeats
    missed); the worker did not stop within the 10 s ``siaga run`` gives it and was killed.
    The messages wait_empty waits for are young objects: collecting the young generations
    lets go of them as well, in milliseconds. Only that call in faust's consumer module is
    changed; the collector runs as usual everywhere else."""
    if consumer_module is None:
        from faust.transport import consumer as consumer_module
    consumer_module.gc = _YoungCollections


def entity_table(ctx: Any, name: str) -> EntityTable:
    """The worker's table ``name`` (created once per worker)."""
    if name not in ctx.tables:
        app = ctx.app
        ctx.tables[name] = app.tables.add(
            EntityTable(
                app,
                name=name,
                default=None,
                beacon=app.tables.beacon,
                partitions=ctx.settings.partitions,
                key_type=bytes,
                # the changelog's partition comes from the key's province (see above)
                use_partitioner=False,
                extra_topic_configs=changelog_topic_configs(ctx.settings),
            )
        )
    return ctx.tables[name]  # type: ignore[no-any-return]
