"""What observability costs the worker (issue 17). ``python -m bench.observability``; the
last line is JSON.

(a) the hooks every batch runs (``streams/plumbing.py``: the batch run inside its trace,
    each folded event offered to the trace log, the processed counter) on batches of 500
    records, with and without a ``traceparent`` header, against the same loop without
    hooks, side by side in this run;
(b) one re-plan's hook (three histogram observations) and one projector batch's
    (projection lag per record, counts per entity type);
(c) rendering a worker's ``/metrics`` once every province has re-planned and an API's once
    40 routes have answered (what a scrape costs).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import platform
import time
from types import SimpleNamespace
from typing import Any

from prometheus_client import REGISTRY, generate_latest

from siaga import metrics, tracing

BATCH = 500
PROVINCES = [f"{n:02d}" for n in (11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35,
                                    36, 51, 52, 53, 61, 62, 63, 64, 65, 71, 72, 73, 74, 75,
                                    76, 81, 82, 91, 92, 93, 94, 95, 96)]


def _events(n: int, traced: bool) -> list[Any]:
    headers = {"traceparent": tracing.child().encode()} if traced else {}
    return [SimpleNamespace(message=SimpleNamespace(topic="siaga.shelters",
                                                    timestamp=time.time()),
                            headers=headers, key=b"32") for _ in range(n)]


def _decoded(i: int) -> Any:
    return SimpleNamespace(event_id=f"e-{i}", type="shelter.headcount_reported",
                           province_code="32")


async def _plain(ctx: Any, events: list[Any], decoded: list[Any]) -> int:
    async def handle(batch: list[Any]) -> int:
        return sum(1 for _ in batch)

    return await handle(events)


async def _hooked(ctx: Any, events: list[Any], decoded: list[Any], log: logging.Logger) -> int:
    async def handle(batch: list[Any]) -> int:
        count = 0
        for event, d in zip(batch, decoded, strict=True):
            tracing.log_event(log, "folded", event, d)
            count += 1
        return count

    done: int = await tracing.traced(events, handle)
    metrics.count_processed(ctx, events)
    return done


def bench_hooks(batches: int) -> dict[str, float]:
    ctx = SimpleNamespace(settings=SimpleNamespace(topic_prefix="siaga"))
    log = logging.getLogger("bench.observability")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    log.setLevel(logging.INFO)
    decoded = [_decoded(i) for i in range(BATCH)]
    out: dict[str, float] = {}
    for name, traced in (("untraced", False), ("traced", True)):
        events = _events(BATCH, traced)

        async def run(hooks: bool, events: list[Any] = events) -> float:
            started = time.perf_counter()
            for _ in range(batches):
                if hooks:
                    await _hooked(ctx, events, decoded, log)
                else:
                    await _plain(ctx, events, decoded)
            return time.perf_counter() - started

        plain = asyncio.run(run(False))
        hooked = asyncio.run(run(True))
        records = batches * BATCH
        out[f"{name}_plain_us_per_record"] = plain / records * 1e6
        out[f"{name}_hooked_us_per_record"] = hooked / records * 1e6
        out[f"{name}_hook_cost_us_per_record"] = (hooked - plain) / records * 1e6
    return out


def bench_replan_and_projector(rounds: int) -> dict[str, float]:
    started = time.perf_counter()
    for i in range(rounds):
        metrics.observe_replan(PROVINCES[i % len(PROVINCES)], 0.5, 0.3, 120)
    replan = (time.perf_counter() - started) / rounds
    events = _events(1000, traced=False)
    changes = [{"entity": ("shelter", "shipment", "plan")[i % 3]} for i in range(1000)]
    started = time.perf_counter()
    for _ in range(max(1, rounds // 100)):
        metrics.observe_projection(events, changes, time.time())
    projector = (time.perf_counter() - started) / max(1, rounds // 100)
    return {"replan_hook_us": replan * 1e6, "projector_hook_us_per_1000_changes": projector * 1e6}


def bench_scrape(rounds: int) -> dict[str, float]:
    for i in range(40):
        for status in ("200", "202", "401", "422"):
            metrics.HTTP_REQUESTS.labels(method="POST", route=f"/api/v1/route{i}",
                                         status=status).inc()
        metrics.HTTP_SECONDS.labels(method="POST", route=f"/api/v1/route{i}").observe(0.01)
    text = generate_latest(REGISTRY)
    started = time.perf_counter()
    for _ in range(rounds):
        text = generate_latest(REGISTRY)
    return {"scrape_ms": (time.perf_counter() - started) / rounds * 1e3,
            "scrape_bytes": float(len(text))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    batches = 40 if args.quick else 400
    result: dict[str, Any] = {
        "bench": "observability",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
        "batch": BATCH,
    }
    result.update(bench_hooks(batches))
    result.update(bench_replan_and_projector(2000 if args.quick else 20000))
    result.update(bench_scrape(20 if args.quick else 200))
    for name in ("untraced", "traced"):
        plain = result[f"{name}_plain_us_per_record"]
        hooked = result[f"{name}_hooked_us_per_record"]
        print(f"batch hooks, {name} records: {hooked:.2f} µs/record with hooks vs "
              f"{plain:.2f} without (ratio {hooked / plain:.1f}x; "
              f"+{result[f'{name}_hook_cost_us_per_record']:.2f} µs/record)")
    print(f"re-plan hook: {result['replan_hook_us']:.1f} µs; projector hook: "
          f"{result['projector_hook_us_per_1000_changes']:.0f} µs per 1,000 changes")
    print(f"/metrics render (38 provinces re-planned, 40 routes): {result['scrape_ms']:.2f} ms, "
          f"{result['scrape_bytes'] / 1024:.0f} KB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
