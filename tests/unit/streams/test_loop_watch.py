"""The event-loop probe (streams/looplag.py) on a real asyncio loop: a handler that holds the
loop is counted, measured and named; a loop that only awaits is not."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from streams.looplag import LoopWatch, where


def hold_the_loop(seconds: float) -> None:
    """A handler doing blocking work on the loop (what the probe is there to catch)."""
    time.sleep(seconds)


async def _run_with_watch(body: object) -> LoopWatch:
    watch = LoopWatch(every=0.01, stall=0.1)
    stop = threading.Event()
    threading.Thread(target=watch.watchdog, args=(stop,), daemon=True).start()
    probe = asyncio.create_task(watch.run())
    try:
        await asyncio.sleep(0.05)
        await body()  # type: ignore[operator]
        await asyncio.sleep(0.05)
    finally:
        stop.set()
        probe.cancel()
        with pytest.raises(asyncio.CancelledError):
            await probe
    return watch


def test_a_handler_holding_the_loop_is_counted_measured_and_named(
        caplog: pytest.LogCaptureFixture) -> None:
    async def body() -> None:
        hold_the_loop(0.3)

    with caplog.at_level(logging.INFO, logger="streams.looplag"):
        watch = asyncio.run(_run_with_watch(body))
    assert watch.stalls == 1
    assert 0.2 <= watch.worst < 1.0
    lines = [r.getMessage() for r in caplog.records if "event loop stalled" in r.getMessage()]
    assert len(lines) == 1
    # the watchdog saw the loop's thread inside the blocking handler
    assert "hold_the_loop" in lines[0]


def test_a_loop_that_only_awaits_has_no_stall() -> None:
    async def body() -> None:
        for _ in range(20):
            await asyncio.sleep(0.01)

    watch = asyncio.run(_run_with_watch(body))
    assert watch.stalls == 0
    assert watch.probes >= 10
    assert watch.worst < 0.1


def test_where_names_the_innermost_frames_first() -> None:
    import sys

    def inner() -> str:
        return where(sys._getframe(), depth=2)  # noqa: SLF001

    def outer() -> str:
        return inner()

    text = where(sys._getframe(), depth=2)
    assert "test_where_names_the_innermost_frames_first" in text
    assert outer().split(" < ")[0].startswith("test_loop_watch.py:inner:")


def test_where_does_not_name_the_collectors_callback_as_where_the_loop_stood() -> None:
    # a stall that is a garbage collection runs the watch's gc callback innermost
    scope: dict[str, object] = {}
    exec(compile("import sys\ndef on_gc(look):\n    return look(sys._getframe())\n",  # noqa: S102
                 "/x/streams/looplag.py", "exec"), scope)
    text = scope["on_gc"](lambda frame: where(frame, depth=2))  # type: ignore[operator]
    assert "looplag" not in text
    assert text.split(" < ")[0].startswith(
        "test_loop_watch.py:test_where_does_not_name_the_collectors_callback")


def test_a_slow_full_collection_is_followed_by_a_freeze_of_its_survivors() -> None:
    """A heap of many tracked objects makes a full collection slow: the watch times it, and
    at its next tick moves the survivors out of later full collections, which then walk
    only what came after (the worker's rows: about a million objects per 2,000 shelters)."""
    import gc

    # any full collection counts as slow here (the worker's bar is FREEZE_AFTER_GC)
    watch = LoopWatch(every=0.01, stall=0.1, freeze_after=0.0)
    heap = [[i] for i in range(200_000)]  # tracked, alive: a full collection walks them
    frozen_before = gc.get_freeze_count()
    gc.callbacks.append(watch.on_gc)
    try:
        gc.collect()
        assert watch.full_collections == 1
        assert watch.full_collection_seconds > 0
        assert watch.freezes == 0  # not inside the collection: at the probe's next tick
        watch.observe(0.0)
        assert watch.freezes == 1
        assert gc.get_freeze_count() >= frozen_before + len(heap)
        watch.observe(0.0)  # no full collection since: nothing more to freeze
        assert watch.freezes == 1
        gc.collect()
        assert watch.full_collections == 2
    finally:
        gc.callbacks.remove(watch.on_gc)
        gc.unfreeze()
        if frozen_before:
            gc.freeze()
    del heap


def test_young_collections_are_not_timed_as_full_ones() -> None:
    import gc

    watch = LoopWatch()
    gc.callbacks.append(watch.on_gc)
    try:
        gc.collect(0)
        gc.collect(1)
    finally:
        gc.callbacks.remove(watch.on_gc)
    assert watch.full_collections == 0
    assert watch.freezes == 0


async def test_the_probe_service_watches_from_its_start_and_cleans_up_after() -> None:
    import gc

    from streams.looplag import Probe

    watch = LoopWatch(every=0.01, stall=0.1)
    probe = Probe(watch)
    await probe.start()
    try:
        assert watch.on_gc in gc.callbacks
        await asyncio.sleep(0.05)
        hold_the_loop(0.25)
        await asyncio.sleep(0.05)
    finally:
        await probe.stop()
    assert watch.stalls == 1 and watch.worst >= 0.2
    assert watch.on_gc not in gc.callbacks
    probes = watch.probes
    await asyncio.sleep(0.05)
    assert watch.probes == probes  # stopped with the service


def test_the_worker_app_starts_the_probe_with_its_own_services() -> None:
    # a dependency of the app, not an @app.task: those start only once the tables recovered
    from siaga.settings import Settings
    from streams.app import create_app
    from streams.looplag import Probe

    app, ctx = create_app(Settings(kafka_bootstrap_servers="unused:9092",
                                   redis_url="redis://unused"))
    probes = [s for s in app._children if isinstance(s, Probe)]  # noqa: SLF001
    assert len(probes) == 1 and probes[0].watch is ctx.loop_watch
    assert not any("watch_loop" in getattr(t, "__name__", "") for t in app._app_tasks)  # noqa: SLF001
