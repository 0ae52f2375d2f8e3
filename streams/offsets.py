"""Input offsets are committed only past records that were processed, and a record the
consumer skipped is read again.

faust commits a partition up to its acknowledged records, but its check for a record
missing at the head of the partition (``Consumer._new_offset``: ``min(acked) - committed
> 1``) lets *one* record through: with the committed offset at C (the next record to
process, Kafka's meaning), records C+1… acknowledged and C never, it commits C+2 — and C
is never processed by anyone. faust's consumer can skip such a record around a rebalance
(a record fetched before the seek back to the committed offsets is delivered after it, and
the record at C, fetched again, is then dropped as already read; faust-streaming issues
#216, #221, #236). Found by tests/integration/test_cluster_faults.py in CI: after a takeover
one shelter — the first record of its partition after the committed offset — kept its old
headcount for good, the 39 reports behind it applied.

:class:`HeadWatch` takes the place of that check on the worker's consumer:

- a partition is committed only once the record at its committed offset is acknowledged
  (or faust knows it is missing: a gap it saw in the offsets, such as a compacted record);
- a record missing at the head for :data:`HEAD_WAIT` seconds while records after it are
  acknowledged was skipped: the partition is read again from it (folding is idempotent;
  the records after it are processed twice), at most :data:`MAX_REREADS` times, after
  which faust's own rule applies again (logged as an error: the record is then lost).

Each agent takes its topic's records in order and a batch is acknowledged whole, so in
normal work a partition's acknowledged records never run ahead of an unacknowledged one for
long; a batch withheld because the worker stops (streams/plumbing.py ``run_batch``) is
never committed past, as intended (faust's rule committed past a withheld batch of one).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

#: Seconds a record may stay unacknowledged at the head of its partition while later ones
#: are acknowledged before the partition is read again from it (commits run every 2.8 s).
HEAD_WAIT = 5.0
#: Times one record is read again before faust's own rule commits past it.
MAX_REREADS = 3


def waiting_for(acked: Iterable[int], committed: int | None, gap: Any = None) -> int | None:
    """The offset a commit of a partition has to wait for: its committed offset (the next
    record to process) when that record is not acknowledged, records after it are, and no
    gap faust saw in the offsets covers it. None when nothing is missing at the head (or
    nothing was committed yet: faust's rule applies, and read_uncommitted_from_start in
    streams/entities.py re-reads such partitions from their first record)."""
    if committed is None:
        return None
    first = min(acked, default=None)
    if first is None or first <= committed:
        return None
    if gap is not None and gap.at(committed):
        return None
    return committed


class HeadWatch:
    """Installed on a faust consumer (:func:`watch_heads`): its commits wait for a record
    missing at a partition's head, and such a record is read again (see the module
    docstring)."""

    def __init__(self, consumer: Any, wait: float = HEAD_WAIT, rereads: int = MAX_REREADS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.consumer = consumer
        self.wait = wait
        self.rereads = rereads
        self.clock = clock
        self.original = consumer._new_offset
        # per partition: (the offset missing at its head, since when)
        self.missing: dict[Any, tuple[int, float]] = {}
        self.reread_count: dict[tuple[Any, int], int] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def install(self) -> HeadWatch:
        """Take the place of the consumer's ``_new_offset`` (faust's commit filter calls it)."""
        self.consumer._new_offset = self.new_offset
        return self

    def new_offset(self, tp: Any) -> int | None:
        """faust's ``Consumer._new_offset`` with the head check (see the module docstring)."""
        consumer = self.consumer
        offset = waiting_for(consumer._acked.get(tp, ()), consumer._committed_offset.get(tp),
                             consumer._gap.get(tp))
        if offset is None:
            self.missing.pop(tp, None)
            return self.original(tp)  # type: ignore[no-any-return]
        now = self.clock()
        seen = self.missing.get(tp)
        if seen is None or seen[0] != offset:
            self.missing[tp] = (offset, now)
            return None
        if now - seen[1] < self.wait:
            return None
        done = self.reread_count.get((tp, offset), 0)
        if done >= self.rereads:
            log.error(
                "record %s[%d] at offset %d was still not processed after %d re-reads "
                "while the records after it were: committing past it (it is lost)",
                tp.topic, tp.partition, offset, done)
            self.missing.pop(tp, None)
            return self.original(tp)  # type: ignore[no-any-return]
        self.reread_count[(tp, offset)] = done + 1
        self.missing[tp] = (offset, now)  # the next re-read only after another wait
        log.warning(
            "record %s[%d] at offset %d was not processed, the records after it were (the "
            "consumer skipped it): reading the partition again from it (re-read %d of %d)",
            tp.topic, tp.partition, offset, done + 1, self.rereads)
        task = asyncio.ensure_future(self._reread(tp, offset))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return None

    async def _reread(self, tp: Any, offset: int) -> None:
        consumer = self.consumer
        try:
            if tp not in consumer.assignment():
                return  # moved to another worker meanwhile: it reads from the commit
            await consumer.seek(tp, offset)
        except Exception as exc:  # noqa: BLE001 (a rebalance under way: tried again later)
            log.warning("re-reading %s[%d] from %d failed: %s", tp.topic, tp.partition,
                        offset, exc)


def watch_heads(ctx: Any) -> HeadWatch:
    """Install :class:`HeadWatch` on the worker's consumer."""
    return HeadWatch(ctx.app.consumer).install()
