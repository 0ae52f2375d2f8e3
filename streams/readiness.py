"""Is this worker ready? It says so to Redis every two seconds (``siaga.workers``).

Ready means: it holds its partitions (no rebalance under way), its tables have recovered,
it has caught up with every partition it consumes (lag 0), and its last batch did not fail
on a service it depends on. ``/readyz`` and ``siaga run`` read it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from typing import Any

log = logging.getLogger(__name__)

REPORT_EVERY = 2.0


async def _lag(app: Any, prefix: str) -> tuple[int, int, bool, dict[Any, tuple[int, int]]]:
    """(partitions, total lag, every partition's position known, (position, end offset) per
    partition) over the partitions of Siaga's own topics this worker consumes
    (``<prefix>.<name>``): changelogs are read by recovery, not consumed, and faust's
    internal topics are not ours to wait for."""
    consumer = app.consumer
    assignment = {tp for tp in consumer.assignment() if tp.topic.startswith(prefix + ".")}
    try:
        client = consumer._thread._ensure_consumer()
    except Exception:  # noqa: BLE001 - not started yet
        return len(assignment), 0, False, {}
    lag = 0
    known = True
    per_partition: dict[tuple[str, int], int] = {}
    offsets: dict[Any, tuple[int, int]] = {}
    for tp in assignment:
        try:
            highwater = client.highwater(tp)
        except Exception:  # noqa: BLE001
            highwater = None
        if highwater is None:
            known = False
            continue
        # where this worker stands: past the last record it read, and never before the
        # consumer's position (the committed offset on assignment). The read offset alone
        # goes stale for a partition taken back after a rebalance with nothing new on it:
        # it still says where this worker was before another one went on (a worker that
        # took over a killed one's partitions then never said it was ready).
        try:
            position = int(await asyncio.wait_for(client.position(tp), timeout=1))
        except Exception:  # noqa: BLE001
            known = False
            continue
        read = consumer._read_offset.get(tp)
        if read is not None:
            position = max(position, int(read) + 1)
        behind = max(0, int(highwater) - int(position))
        per_partition[(tp.topic, tp.partition)] = behind
        offsets[(tp.topic, tp.partition)] = (int(position), int(highwater))
        lag += behind
    from siaga.metrics import set_lag

    set_lag(prefix, per_partition, {(tp.topic, tp.partition) for tp in assignment})
    return len(assignment), lag, known, offsets


async def status(ctx: Any, catch_up: Any = None) -> dict[str, Any]:
    app = ctx.app
    partitions, lag, known, offsets = await _lag(app, ctx.settings.topic_prefix)
    recovery = getattr(app.tables, "recovery", None)
    recovered = bool(recovery is not None and recovery.completed.is_set())
    rebalancing = bool(getattr(app, "rebalancing", False))
    healthy = ctx.health.failing_since is None
    planning = ctx.plan_pool is None or ctx.plan_pool.ready()
    ready = recovered and not rebalancing and known and lag == 0 and healthy and planning
    working = recovered and not rebalancing and known and healthy and planning
    # how far behind in time (siaga.workers.CatchUp: the picture's age)
    behind = (None if catch_up is None
              else catch_up.observe(time.monotonic(), offsets, working=working))
    from siaga import metrics

    return {
        "ready": ready,
        "partitions": partitions,
        "lag": lag,
        "behind_seconds": behind,
        "detail": {
            "recovered": recovered,
            "rebalancing": rebalancing,
            "positions_known": known,
            "planning_process": planning,
            "failing": None if healthy else ctx.health.last_error,
            "metrics_port": metrics.SERVED_PORT,
            # how long handlers held the event loop (streams/looplag.py), since start
            "loop_stalls": watch.stalls if (watch := ctx.loop_watch) is not None else None,
            "loop_worst_seconds": round(watch.worst, 3) if watch is not None else None,
        },
    }


def register(ctx: Any) -> None:
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    last_ready: list[bool] = [False]
    from siaga.workers import CatchUp

    catch_up = CatchUp()

    @ctx.app.task
    async def report_starting() -> None:
        # at once: a restarted worker is not ready (its predecessor's report may look fresh)
        from siaga.workers import report_worker

        try:
            await report_worker(ctx.redis, ctx.settings.app_id, worker_id, ready=False,
                                partitions=0, lag=0, detail={"starting": True})
        except Exception as exc:  # noqa: BLE001 - best effort
            log.warning("readiness report failed: %s", exc)

    @ctx.app.timer(REPORT_EVERY)
    async def report_readiness() -> None:
        from siaga.workers import report_worker

        try:
            now = await status(ctx, catch_up)
            await report_worker(
                ctx.redis, ctx.settings.app_id, worker_id, ready=now["ready"],
                partitions=now["partitions"], lag=now["lag"], detail=now["detail"],
                behind_seconds=now["behind_seconds"],
            )
        except Exception as exc:  # noqa: BLE001 - a report is best effort
            log.warning("readiness report failed: %s", exc)
            return
        if now["ready"] != last_ready[0]:
            last_ready[0] = now["ready"]
            log.info("worker %s", "ready (caught up)" if now["ready"] else
                     f"not ready: {now['detail']} lag {now['lag']}")

    @ctx.app.on_before_shutdown.connect
    async def _forget(app: Any, **kwargs: Any) -> None:
        from siaga.workers import remove_worker

        try:
            await asyncio.wait_for(remove_worker(ctx.redis, worker_id), timeout=2)
        except Exception as exc:  # noqa: BLE001 - best effort on the way out
            log.info("could not remove the worker's readiness entry: %s", exc)
