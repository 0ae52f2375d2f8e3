"""The per-entity table's bookkeeping (streams/entities.py): which rows changed, and what a
standby's changelog records change — only their own provinces.

A faust table on the memory store, without a broker: the changelog batches are built as
faust hands them to the table (key, value, and the record's partition and offset).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.types import TP

from streams.entities import EntityTable, entity_key


@pytest.fixture
async def table() -> EntityTable:
    # in the test's event loop: a write hands its changelog record to faust's producer buffer
    app = faust.App("t-entity-table", broker="kafka://127.0.0.1:1", store="memory://")
    return EntityTable(app, name="shelters", default=None, partitions=4, key_type=bytes,
                       use_partitioner=False)


def _record(province: str, entity_id: str, value: Any, offset: int) -> Any:
    return SimpleNamespace(
        key=entity_key(province, entity_id), value=value,
        message=SimpleNamespace(value=None if value is None else b"x", offset=offset, partition=1,
                                tp=TP("shelters-changelog", 1)))


async def test_the_planner_gets_the_ids_written_or_removed_since_it_last_asked(
        table: EntityTable) -> None:
    table.put("32", "a", {"n": 1})
    assert table.take_changed("32") == set()  # the first call starts keeping them
    table.put("32", "b", {"n": 2})
    table.put("32", "a", {"n": 3})
    table.remove("32", "b")
    table.put("35", "z", {"n": 9})  # another province
    assert table.take_changed("32") == {"a", "b"}
    assert table.take_changed("32") == set()
    table.put("32", "c", {"n": 4})
    table.forget_changed("32", "c")  # the planning process holds it already
    assert table.take_changed("32") == set()


async def test_a_standbys_records_change_only_their_own_provinces(table: EntityTable) -> None:
    table.put("32", "a", {"n": 1})
    table.put("33", "s", {"n": 5})
    assert table.rows("32") == {"a": {"n": 1}}  # the index is built
    table.take_changed("32")
    before = (table.epoch_of("32"), table.revision("32"))
    index = table._index
    table.apply_changelog_batch([
        _record("33", "t", {"n": 6}, 10), _record("33", "s", None, 11),
        _record("34", "u", {"n": 7}, 12)])
    # province 32 is as it was: same epoch and revision, nothing to send again
    assert (table.epoch_of("32"), table.revision("32")) == before
    assert table.take_changed("32") == set()
    # the provinces in the batch moved, and the index follows them without a rebuild
    assert table.epoch_of("33") != (0, 0) and table.epoch_of("34") != (0, 0)
    assert table._index is index
    assert table.rows("33") == {"t": {"n": 6}}
    assert table.rows("34") == {"u": {"n": 7}}
    assert table.rows("32") == {"a": {"n": 1}}
    assert table.ids("33") == ["t"]


def test_faust_waiting_for_acks_collects_only_the_young_generations() -> None:
    # faust's Consumer.wait_empty (every rebalance, and shutdown) called a full gc.collect()
    # once per second: seconds each on a worker holding 20,000 shelters, the loop blocked
    import gc

    from streams.entities import young_collections_while_waiting

    consumer_module = SimpleNamespace(gc=gc)
    young_collections_while_waiting(consumer_module)
    generations: list[int] = []

    def seen(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        consumer_module.gc.collect()
    finally:
        gc.callbacks.remove(seen)
    assert generations and max(generations) == 1  # (a young automatic one may join)
    assert gc.isenabled()
