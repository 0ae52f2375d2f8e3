"""A partition's input offset is committed only past records that were processed; a record
skipped by the consumer (later ones acknowledged) is read again (streams/offsets.py).

On a real faust consumer object (never connected): its acknowledgement bookkeeping and its
commit filter are faust's own; only the seek — a broker round trip — is recorded."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
import pytest
from faust.types import TP
from faust.types.tuples import Message
from intervaltree import IntervalTree

from streams.offsets import MAX_REREADS, HeadWatch, waiting_for

TOPIC = "t-head.shelters"
TP0 = TP(TOPIC, 0)


def test_waiting_for_names_the_committed_offset_only_when_it_is_missing() -> None:
    assert waiting_for([10, 11], 10) is None  # the head is there
    assert waiting_for([11, 12], 10) == 10  # the head is missing, later records are acked
    assert waiting_for([], 10) is None  # nothing acknowledged yet
    assert waiting_for([11], None) is None  # nothing committed: faust's rule
    gap = IntervalTree()
    gap.addi(10, 11)  # faust saw offset 10 missing from the log (compacted, a marker)
    assert waiting_for([11], 10, gap) is None
    assert waiting_for([12], 10, IntervalTree.from_tuples([(11, 12)])) == 10


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _consumer() -> Any:
    app = faust.App("t-head-watch", broker="kafka://127.0.0.1:1", store="memory://")
    app.topics.add(app.topic(TOPIC))  # as an agent's stream does
    await app.topics._update_indices()  # what the conductor does at start: acks enabled
    consumer = app.consumer
    assert app.topics.acks_enabled_for(TOPIC)
    consumer._committed_offset[TP0] = 10  # Kafka's meaning: the next record to process
    return consumer


def _ack(consumer: Any, *offsets: int) -> None:
    for offset in offsets:
        message = Message(TOPIC, 0, offset, 0.0, 0, [], b"32", b"{}", None, tp=TP0)
        assert consumer.ack(message)


def _watched(consumer: Any, wait: float, assigned: set[TP]
             ) -> tuple[HeadWatch, Clock, list[tuple[TP, int]]]:
    """The watch installed on ``consumer`` with a clock the test moves; the seeks it asks for
    are recorded (``assigned``: the partitions the consumer holds)."""
    clock = Clock()
    seeks: list[tuple[TP, int]] = []

    async def seek(tp: TP, offset: int) -> None:
        seeks.append((tp, offset))

    consumer.seek = seek
    consumer.assignment = lambda: assigned
    return HeadWatch(consumer, wait=wait, clock=clock).install(), clock, seeks


async def test_faust_alone_commits_past_a_record_missing_at_the_head() -> None:
    """Why the watch exists: faust's rule lets one unprocessed record through."""
    consumer = await _consumer()
    _ack(consumer, 11, 12)
    assert consumer._filter_committable_offsets([TP0]) == {TP0: 13}


async def test_the_commit_waits_for_the_head_and_goes_on_once_it_is_processed() -> None:
    consumer = await _consumer()
    HeadWatch(consumer).install()
    _ack(consumer, 11, 12)
    assert consumer._filter_committable_offsets([TP0]) == {}
    _ack(consumer, 10)
    assert consumer._filter_committable_offsets([TP0]) == {TP0: 13}


async def test_a_skipped_record_is_read_again_after_the_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer = await _consumer()
    watch, clock, seeks = _watched(consumer, wait=5.0, assigned={TP0})
    _ack(consumer, 11, 12)
    assert consumer._filter_committable_offsets([TP0]) == {}  # first seen missing
    clock.now += 4.9
    assert consumer._filter_committable_offsets([TP0]) == {}
    await asyncio.sleep(0)
    assert seeks == []  # not yet: a batch may still be on its way
    clock.now += 0.2
    with caplog.at_level(logging.WARNING, logger="streams.offsets"):
        assert consumer._filter_committable_offsets([TP0]) == {}
        await asyncio.gather(*watch.tasks)
    assert seeks == [(TP0, 10)]
    assert "reading the partition again" in caplog.text
    # the re-read record is processed: the commit covers it and those after it
    _ack(consumer, 10)
    assert consumer._filter_committable_offsets([TP0]) == {TP0: 13}


async def test_a_record_never_processed_is_given_up_after_the_last_reread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer = await _consumer()
    watch, clock, seeks = _watched(consumer, wait=1.0, assigned={TP0})
    _ack(consumer, 11)
    assert consumer._filter_committable_offsets([TP0]) == {}
    for _ in range(MAX_REREADS):
        clock.now += 1.5
        assert consumer._filter_committable_offsets([TP0]) == {}
        await asyncio.gather(*watch.tasks)
    assert seeks == [(TP0, 10)] * MAX_REREADS
    clock.now += 1.5
    with caplog.at_level(logging.ERROR, logger="streams.offsets"):
        committed = consumer._filter_committable_offsets([TP0])
    assert committed == {TP0: 12}  # faust's own rule again, said loudly
    assert "it is lost" in caplog.text


async def test_a_partition_moved_away_is_not_sought() -> None:
    consumer = await _consumer()
    watch, clock, seeks = _watched(consumer, wait=1.0, assigned=set())
    _ack(consumer, 11)
    consumer._filter_committable_offsets([TP0])
    clock.now += 2
    consumer._filter_committable_offsets([TP0])
    await asyncio.gather(*watch.tasks)
    assert seeks == []
