"""Pipeline benchmarks (issue 5). ``python -m bench.pipeline [--quick]``; the last line is JSON.

(a) Throughput: shelter headcount events/s from the input topic through re-planning to the
    Redis read model, with one and with two workers, side by side in the same run with
    raw aiokafka produce+consume of the same messages on the same broker, and with a
    pass-through faust agent (same faust options as Siaga's worker).
(b) Latency: p50/p99 from a headcount event produced to the read model showing it (or a
    newer report of the same shelter), at 2 (a quiet system), 100 and 1,000 events/s offered.
(c) Replay of cianjur-2022 at full speed: wall time until the read models are quiet.

Every part runs on each broker chosen with ``--broker`` (default ``both``, one after the
other in the same run): Apache Kafka 4.x started here by :mod:`siaga.apache_kafka` with the
workers on the production profile, and Tansu with the local profile; Redis started here.
``--province-shelters`` runs on one broker (Apache Kafka when it can run here).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import re
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio import Redis

from siaga import events as ev
from siaga import readmodel
from siaga.kafka import ensure_topics
from siaga.local import LocalServiceError, ManagedProcess, spawn, start_broker, start_redis
from siaga.readmodel import FEED
from siaga.replay import replay
from siaga.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PROVINCES = ("11", "12", "31", "32", "33", "35", "51", "72")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def say(message: str) -> None:
    print(f"[bench.pipeline] {message}", file=sys.stderr, flush=True)


@dataclass
class Workload:
    setup: list[ev.Envelope]
    headcounts: list[ev.ShelterHeadcountReported]


def _points() -> dict[str, list[tuple[float, float, str]]]:
    """Kabupaten centre points that resolve to their own kabupaten (a few lie offshore)."""
    import geo

    text = resources.files("geo.data").joinpath("kabupaten.csv").read_text()
    out: dict[str, list[tuple[float, float, str]]] = {}
    for row in csv.DictReader(text.splitlines()):
        if row["province_code"] not in PROVINCES:
            continue
        lat, lon = float(row["lat"]), float(row["lon"])
        try:
            region = geo.resolve(lat, lon)
        except geo.GeoError:
            continue
        if region.kabupaten_code == row["code"] and region.distance_offshore_km == 0:
            out.setdefault(row["province_code"], []).append((lat, lon, row["code"]))
    return out


def build_workload(shelters_per_province: int, events: int) -> Workload:
    points = _points()
    base = dict(source="bench", schema_version=1)
    setup: list[ev.Envelope] = []
    shelters: list[tuple[str, str]] = []
    for p in PROVINCES:
        kab = points[p]
        for w in range(2):
            lat, lon, code = kab[w % len(kab)]
            wid = f"wh-{p}-{w}"
            setup.append(ev.WarehouseRegistered(
                event_id=uuid.uuid4(), occurred_at=T0, **base, warehouse_id=wid, name=wid,
                kind="provincial", location={"lat": lat, "lon": lon}, province_code=p,
                kabupaten_code=code))
            for item, unit, qty in (("rice", "kg", 20_000), ("drinking_water", "L", 60_000)):
                setup.append(ev.StockLevelReported(
                    event_id=uuid.uuid4(), occurred_at=T0, **base, warehouse_id=wid,
                    province_code=p, item=item, batch_id=f"{wid}-{item}", quantity=qty,
                    unit=unit, expires_on=None))
        for s in range(shelters_per_province):
            lat, lon, code = kab[s % len(kab)]
            sid = f"sh-{p}-{s}"
            shelters.append((p, sid))
            setup.append(ev.ShelterRegistered(
                event_id=uuid.uuid4(), occurred_at=T0, **base, shelter_id=sid, name=sid,
                location={"lat": lat, "lon": lon},
                province_code=p, kabupaten_code=code, posko_id="bench"))
    headcounts = []
    for i in range(events):
        p, sid = shelters[i % len(shelters)]
        headcounts.append(ev.ShelterHeadcountReported(
            event_id=uuid.uuid4(), occurred_at=T0 + timedelta(seconds=i + 1), **base,
            shelter_id=sid, province_code=p, total=100 + i, infants=5, children=20,
            elderly=10, pregnant_lactating=3, disabled=2, posko_id="bench"))
    return Workload(setup, headcounts)


class Stack:
    """Broker and Redis for the whole run: ``kafka`` (Apache Kafka, production profile)
    or ``tansu`` (local profile)."""

    def __init__(self, data_dir: Path, broker: str = "tansu") -> None:
        self.data_dir = data_dir
        self.kind = broker
        if broker == "kafka":
            from siaga.apache_kafka import start_kafka

            self.broker, self.bootstrap = start_kafka(data_dir, heap="512m")
            self.profile = "production"
        elif broker == "tansu":
            self.broker, self.bootstrap = start_broker(data_dir)
            self.profile = "local"
        else:
            raise ValueError(f"unknown broker {broker!r}")
        try:
            self.redis_proc, self.redis_url = start_redis(data_dir)
        except LocalServiceError:
            self.broker.stop()
            raise

    def settings(self, db: int, **changes: Any) -> Settings:
        token = uuid.uuid4().hex[:8]
        return Settings(
            kafka_bootstrap_servers=self.bootstrap,
            redis_url=f"{self.redis_url.rsplit('/', 1)[0]}/{db}",
            kafka_profile=self.profile,
            topic_prefix=f"b{token}",
            app_id=f"bench-{token}",
            data_dir=self.data_dir / token,
            partitions=4,
            log_level="WARNING",
            **changes,
        )

    def stop(self) -> None:
        self.redis_proc.stop()
        self.broker.stop()


REPLANNED = re.compile(r"re-planned province (\S+) \(plan [^)]*\) in ([0-9.]+) s: (\d+) changes")


def replan_times(procs: list[ManagedProcess]) -> list[float]:
    """Seconds of every "re-planned province … in X s" line the workers logged."""
    out: list[float] = []
    for proc in procs:
        if proc.log_path is not None and proc.log_path.exists():
            out += [float(m.group(2)) for m in
                    REPLANNED.finditer(proc.log_path.read_text(errors="ignore"))]
    return out


STALL_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3})\].*event loop stalled "
                        r"([0-9.]+) s", re.M)


def loop_stalls(log_text: str, since: datetime) -> tuple[int, float]:
    """(stalls, worst seconds) of the worker's event loop logged at or after ``since`` (naive
    local time, as the worker's log stamps it): streams/looplag.py logs every stall of
    100 ms or more."""
    count, worst = 0, 0.0
    for m in STALL_LINE.finditer(log_text):
        at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(
            microsecond=int(m.group(2)) * 1000)
        if at >= since:
            count += 1
            worst = max(worst, float(m.group(3)))
    return count, worst


class Stalled(Exception):
    """A phase made no progress within its time limit (recorded, not hidden)."""


SETUP_TIMEOUT = 120.0
DRAIN_TIMEOUT = 300.0


async def _shelters_shown(redis: Redis) -> int:
    return len([k async for k in redis.scan_iter("siaga:shelter:*")])


async def wait_setup(redis: Redis, n_shelters: int, procs: list[ManagedProcess]) -> None:
    """Until every registered shelter has a read model; Stalled after SETUP_TIMEOUT."""
    deadline = time.perf_counter() + SETUP_TIMEOUT
    while (shown := await _shelters_shown(redis)) < n_shelters:
        if time.perf_counter() > deadline:
            raise Stalled(f"set-up: {shown}/{n_shelters} shelters shown after "
                          f"{SETUP_TIMEOUT:.0f} s ({_replans_by_worker(procs)})")
        await asyncio.sleep(0.2)


# Longer than the longest silence in the worker's log while it still works on a phase's
# tail. 3 s let a burst start while the set-up's second 2,000-shelter plan (23,000 changes,
# 46,000 rows written, 15,000 escalations) had not logged yet: it began 2 s into the burst (a
# 2,000-shelter plan takes 2–2.6 s, after up to 1 s of settling and up to 2 s waiting for
# quick views). 6 s was not enough either: the national tier took in the 12,000 escalations
# of such a plan and re-planned 11 s after it, logging nothing in between, inside the burst.
# Nor is 12 s always: in one run it re-planned 17 s after the plan. What the national tier
# still has to take in does not show from outside (its input is read; it writes its rows 40
# at a time); the phases' bursts can still meet that tail.
QUIET_FOR = 12.0
QUIET_TIMEOUT = 180.0


async def wait_quiet(redis: Redis, settings: Settings, proc: ManagedProcess) -> float:
    """Until the worker is quiet: ready (holding its partitions, caught up on every topic it
    reads) and no re-plan — province or national — logged for ``QUIET_FOR`` seconds. A
    phase measured before that would also measure the previous phase's tail (a 2,000-shelter
    province's first plans write tens of thousands of rows and escalations after its views
    are shown). Returns the seconds waited; after ``QUIET_TIMEOUT`` it says so and goes on."""
    from siaga.workers import worker_status

    started = time.perf_counter()
    last_plans, last_change = -1, time.perf_counter()
    while time.perf_counter() - started < QUIET_TIMEOUT:
        text = proc.log_path.read_text(errors="ignore") if proc.log_path else ""
        plans = text.count("re-planned")
        if plans != last_plans:
            last_plans, last_change = plans, time.perf_counter()
        ready = (await worker_status(redis, settings.app_id))["ready"]
        if ready and time.perf_counter() - last_change >= QUIET_FOR:
            return time.perf_counter() - started
        await asyncio.sleep(0.2)
    say(f"worker not quiet after {QUIET_TIMEOUT:.0f} s; measuring anyway")
    return time.perf_counter() - started


def _replans_by_worker(procs: list[ManagedProcess]) -> str:
    return ", ".join(f"{p.name}: {len(replan_times([p]))} re-plans" for p in procs)


def start_worker(settings: Settings, name: str, timeout: float = 120) -> ManagedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    env.update(settings.as_env())
    env["SIAGA_LOG_LEVEL"] = "INFO"
    proc = spawn(name, [sys.executable, "-m", "siaga.cli", "worker"],
                 settings.data_dir / f"{name}.log", env=env, cwd=ROOT)
    try:
        _wait_ready(proc, timeout, plans_apart=settings.plan_processes > 0)
    except BaseException:
        proc.stop()  # not left running (an orphan worker skewed every later measurement)
        raise
    return proc


def _wait_ready(proc: ManagedProcess, timeout: float = 120, plans_apart: bool = True) -> None:
    assert proc.log_path is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = proc.log_path.read_text(errors="ignore") if proc.log_path.exists() else ""
        # faust's "Worker ready", and the planning process warm (unless plans are in a thread)
        if "Worker ready" in text and ("planning process ready" in text or not plans_apart):
            return
        if not proc.alive():
            break
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} not ready; see {proc.log_path}")


async def produce(settings: Settings, events: Sequence[ev.Envelope], rate: float | None = None,
                  sent: dict[str, float] | None = None) -> dict[str, float]:
    """Produce events to their topics; fills and returns {event_id: send time}."""
    from siaga.catalogue import topic_for_event_type

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=5)
    await producer.start()
    sent = {} if sent is None else sent
    try:
        start = time.perf_counter()
        futures = []
        for i, event in enumerate(events):
            if rate:
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            topic = settings.topic(topic_for_event_type(event.type).name)  # type: ignore[attr-defined]
            sent[str(event.event_id)] = time.perf_counter()
            futures.append(await producer.send(
                topic, ev.encode_event(event), key=event.province_code.encode()))  # type: ignore[attr-defined]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return sent


async def final_totals_visible(redis: Redis, want: dict[str, int]) -> bool:
    shown = await readmodel.get_entities(redis, "shelter", list(want))
    for sid, data in shown.items():
        if not data:
            return False
        if (data.get("headcount") or {}).get("total") != want[sid]:
            return False
    return True


async def bench_siaga(stack: Stack, wl: Workload, workers: int, db: int) -> dict[str, Any]:
    settings = stack.settings(db)
    redis = Redis.from_url(settings.redis_url or "")
    await redis.flushdb()
    await ensure_topics(settings)
    procs = [start_worker(settings, f"worker{i}") for i in range(workers)]
    try:
        await produce(settings, wl.setup)
        want_setup = {s.shelter_id: None for s in wl.setup if isinstance(s, ev.ShelterRegistered)}
        try:
            await wait_setup(redis, len(want_setup), procs)
        except Stalled as exc:
            say(f"STALLED with {workers} worker(s): {exc}")
            return {"events": len(wl.headcounts), "stalled": str(exc),
                    "events_per_s": float("nan"), "replans": len(replan_times(procs)),
                    "replan_seconds_p50": float("nan"), "replan_seconds_max": float("nan"),
                    "replan_share_of_wall": float("nan")}
        await asyncio.sleep(2)
        setup_times = replan_times(procs)
        want: dict[str, int] = {}
        for h in wl.headcounts:
            want[h.shelter_id] = h.total
        start = time.perf_counter()
        await produce(settings, list(wl.headcounts))
        produced = time.perf_counter() - start
        stalled = None
        while not await final_totals_visible(redis, want):
            if time.perf_counter() - start > DRAIN_TIMEOUT:
                stalled = (f"not every last headcount shown {DRAIN_TIMEOUT:.0f} s after the "
                           f"first was produced ({_replans_by_worker(procs)})")
                say(f"STALLED with {workers} worker(s): {stalled}")
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - start
        times = replan_times(procs)
        setup_replans = setup_times
    finally:
        for p in procs:
            p.stop()
        await redis.aclose()
    n = len(wl.headcounts)
    measured = times[len(setup_replans):] if len(times) >= len(setup_replans) else times
    return {"events": n, "seconds": elapsed,
            "events_per_s": float("nan") if stalled else n / elapsed,
            **({"stalled": stalled} if stalled else {}),
            "produce_seconds": produced, "replans": len(measured),
            "replan_seconds_total": sum(measured),
            "replan_seconds_p50": statistics.median(measured) if measured else float("nan"),
            "replan_seconds_max": max(measured) if measured else float("nan"),
            # share of the worker's wall time spent inside re-plans (concurrent re-plans
            # of one batch overlap, so this can exceed 1 per worker)
            "replan_share_of_wall": sum(measured) / (elapsed * len(procs))}


async def bench_raw(stack: Stack, wl: Workload) -> dict[str, float]:
    topic = f"raw-{uuid.uuid4().hex[:8]}"
    records = [(h.province_code.encode(), ev.encode_event(h)) for h in wl.headcounts]
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=stack.bootstrap,
                                group_id=f"raw-{uuid.uuid4().hex[:6]}",
                                auto_offset_reset="earliest")
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, linger_ms=5)
    await producer.start()
    await producer.send_and_wait(topic, b"warm", key=b"00")
    await consumer.start()
    got = 0
    while got < 1:
        batch = await consumer.getmany(timeout_ms=500)
        got += sum(len(v) for v in batch.values())
    start = time.perf_counter()
    futures = [await producer.send(topic, value, key=key) for key, value in records]
    await asyncio.gather(*futures)
    got = 0
    while got < len(records):
        batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
        got += sum(len(v) for v in batch.values())
    elapsed = time.perf_counter() - start
    await producer.stop()
    await consumer.stop()
    return {"seconds": elapsed, "events_per_s": len(records) / elapsed}


async def bench_passthrough(stack: Stack, wl: Workload) -> dict[str, float]:
    token = uuid.uuid4().hex[:8]
    src, dst = f"pt-in-{token}", f"pt-out-{token}"
    settings = stack.settings(0)
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(src, 4, 1), NewTopic(dst, 4, 1)])
    await admin.close()
    proc = spawn("passthrough", [sys.executable, "-m", "bench.passthrough_app", stack.bootstrap,
                                 f"pt-{token}", src, dst, str(settings.data_dir), stack.profile],
                 settings.data_dir / "passthrough.log", cwd=ROOT)
    try:
        _wait_ready(proc, plans_apart=False)
        records = [(h.province_code.encode(), ev.encode_event(h)) for h in wl.headcounts]
        consumer = AIOKafkaConsumer(dst, bootstrap_servers=stack.bootstrap,
                                    group_id=f"pt-reader-{token}", auto_offset_reset="earliest")
        await consumer.start()
        producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, linger_ms=5)
        await producer.start()
        start = time.perf_counter()
        futures = [await producer.send(src, value, key=key) for key, value in records]
        await asyncio.gather(*futures)
        got = 0
        while got < len(records):
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            got += sum(len(v) for v in batch.values())
        elapsed = time.perf_counter() - start
        await producer.stop()
        await consumer.stop()
    finally:
        proc.stop()
    return {"seconds": elapsed, "events_per_s": len(wl.headcounts) / elapsed}


async def bench_latency(stack: Stack, wl: Workload, rate: float, seconds: float, db: int
                        ) -> dict[str, float]:
    settings = stack.settings(db)
    redis = Redis.from_url(settings.redis_url or "")
    await redis.flushdb()
    await ensure_topics(settings)
    proc = start_worker(settings, "latency")
    try:
        await produce(settings, wl.setup)
        n_shelters = sum(isinstance(s, ev.ShelterRegistered) for s in wl.setup)
        await wait_setup(redis, n_shelters, [proc])
        await asyncio.sleep(2)
        events = wl.headcounts[: int(rate * seconds)]
        pending: dict[str, list[tuple[int, str]]] = {}
        for h in events:
            pending.setdefault(h.shelter_id, []).append((h.total, str(h.event_id)))
        last_id = (await redis.xinfo_stream(FEED))["last-generated-id"]
        latencies: list[float] = []
        stop = asyncio.Event()
        sent_at: dict[str, float] = {}

        async def watch() -> None:
            nonlocal last_id
            while not stop.is_set() or any(pending.values()):
                reply: Any = await redis.xread({FEED: last_id}, count=1000, block=200)
                now = time.perf_counter()
                for _, entries in reply or []:
                    for entry_id, fields in entries:
                        last_id = entry_id
                        if fields[b"entity"] != b"shelter":
                            continue
                        data = json.loads(fields[b"json"])
                        total = (data.get("headcount") or {}).get("total")
                        queue = pending.get(data["shelter_id"], [])
                        while queue and total is not None and queue[0][0] <= total:
                            _, event_id = queue.pop(0)
                            if event_id in sent_at:
                                latencies.append(now - sent_at[event_id])
                if stop.is_set() and time.perf_counter() - stopped_at > 30:
                    return

        stopped_at = 0.0
        watcher = asyncio.create_task(watch())
        await produce(settings, list(events), rate=rate, sent=sent_at)
        stopped_at = time.perf_counter()
        stop.set()
        await watcher
    finally:
        proc.stop()
        await redis.aclose()
    latencies.sort()
    return {
        "offered_per_s": rate,
        "events": len(events),
        "observed": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
    }


async def bench_replay(stack: Stack, db: int) -> dict[str, float]:
    settings = stack.settings(db)
    redis = Redis.from_url(settings.redis_url or "")
    await redis.flushdb()
    await ensure_topics(settings)
    proc = start_worker(settings, "replay")
    try:
        start = time.perf_counter()
        stats = await replay(settings, "cianjur-2022", speed=0)
        produced = time.perf_counter() - start
        last, last_change = -1, time.perf_counter()
        while True:
            length = await redis.xlen(FEED)
            if length != last:
                last, last_change = length, time.perf_counter()
            elif time.perf_counter() - last_change > 3:
                break
            await asyncio.sleep(0.05)
        elapsed = last_change - start
    finally:
        proc.stop()
        await redis.aclose()
    return {"events": stats.events, "produce_seconds": produced, "seconds_to_read_models": elapsed,
            "feed_entries": last}


async def bench_broker(broker: str, quick: bool) -> dict[str, Any]:
    """Every part of the default benchmark on one broker (its own broker and Redis)."""
    n_events = 3_000 if quick else 20_000
    shelters = 8 if quick else 25
    wl = build_workload(shelters, n_events)
    data_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"siaga-bench-{uuid.uuid4().hex[:6]}"
    started = time.perf_counter()
    stack = Stack(data_dir, broker)
    name = "Apache Kafka" if broker == "kafka" else "Tansu"
    results: dict[str, Any] = {"broker": broker, "profile": stack.profile}

    def tell(message: str) -> None:
        say(f"[{name}] {message}")

    try:
        tell(f"workload: {len(PROVINCES)} provinces x {shelters} shelters, {n_events} headcounts "
             f"(workers on the {stack.profile} profile)")
        results["raw_aiokafka"] = await bench_raw(stack, wl)
        tell(f"raw aiokafka produce+consume: {results['raw_aiokafka']['events_per_s']:,.0f}/s")
        results["faust_passthrough"] = await bench_passthrough(stack, wl)
        tell(f"faust pass-through agent: {results['faust_passthrough']['events_per_s']:,.0f}/s")
        for workers, key in ((1, "siaga_1_worker"), (2, "siaga_2_workers")):
            r = await bench_siaga(stack, wl, workers, db=workers)
            results[key] = r
            tell(f"siaga, {workers} worker(s): {r['events_per_s']:,.0f}/s ({r['replans']} "
                 f"re-plans, p50 {r['replan_seconds_p50']:.3f} s, max "
                 f"{r['replan_seconds_max']:.3f} s; re-planning {r['replan_share_of_wall']:.0%} "
                 "of the workers' wall time)")
        for rate in (2, 100, 1000):
            # 2/s: single changes on a quiet system (the 2 a.m. headcount jump)
            seconds = (10 if quick else 20) if rate == 2 else (5 if quick else 15)
            try:
                r = await bench_latency(stack, build_workload(shelters, int(rate * seconds)),
                                        rate, seconds, db=3)
            except Stalled as exc:
                tell(f"latency at {rate}/s: STALLED: {exc}")
                results[f"latency_{rate}"] = {"offered_per_s": rate, "stalled": str(exc),
                                              "p50_ms": float("nan"), "p99_ms": float("nan")}
                continue
            results[f"latency_{rate}"] = r
            tell(f"latency at {rate}/s: p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms "
                 f"({r['observed']}/{r['events']} observed)")
        results["replay_cianjur"] = await bench_replay(stack, db=4)
        tell(f"replay cianjur-2022 at full speed: {results['replay_cianjur']['events']} events "
             f"produced in {results['replay_cianjur']['produce_seconds']:.2f} s, read models "
             f"settled after {results['replay_cianjur']['seconds_to_read_models']:.2f} s")
    finally:
        stack.stop()
    one = results["siaga_1_worker"]["events_per_s"]
    passthrough = results["faust_passthrough"]["events_per_s"]
    results["ratio_1_worker_vs_passthrough"] = one / passthrough
    results["ratio_1_worker_vs_raw"] = one / results["raw_aiokafka"]["events_per_s"]
    results["ratio_2_workers_vs_passthrough"] = (
        results["siaga_2_workers"]["events_per_s"] / passthrough)
    results["ratio_2_workers_vs_raw"] = (
        results["siaga_2_workers"]["events_per_s"] / results["raw_aiokafka"]["events_per_s"])
    results["ratio_passthrough_vs_raw"] = passthrough / results["raw_aiokafka"]["events_per_s"]
    results["wall_seconds"] = time.perf_counter() - started
    return results


async def main(quick: bool, brokers: list[str]) -> dict[str, Any]:
    results: dict[str, Any] = {"brokers": {}}
    for broker in brokers:  # one after the other: they never share the two cores
        results["brokers"][broker] = await bench_broker(broker, quick)
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "date": datetime.now(UTC).date().isoformat()}
    results["quick"] = quick
    return results


# ---------------------------------------------------------------- province size (issue 10)


def _rss_mb(pid: int) -> float:
    import psutil

    try:
        proc = psutil.Process(pid)
        return float(sum(p.memory_info().rss
                         for p in [proc, *proc.children(recursive=True)])) / 2**20
    except psutil.Error:
        return 0.0


async def _drop_visible(redis: Redis, pending: dict[str, int], planned: bool = False) -> None:
    """Remove from ``pending`` the shelters that show their wanted headcount total
    (``planned``: in the view of a plan made from it, not only in the shelters agent's quick
    view), reading only those."""
    found = await readmodel.get_entities(redis, "shelter", list(pending))
    for sid, data in found.items():
        if (data and (data.get("headcount") or {}).get("total") == pending[sid]
                and not (planned and data.get("plan_pending"))):
            del pending[sid]


async def _wait_visible(redis: Redis, want: dict[str, int], planned: bool = False,
                        poll: float = 0.05, limit: float | None = None) -> int:
    """Until every shelter in ``want`` shows its wanted total (``planned``: as
    :func:`_drop_visible`). Each poll reads only the shelters not seen yet: reading every view on
    every poll (5 KB each, 2,000 of them every 50 ms) cost the bench's observer more CPU, on
    the same two cores as the worker, the broker and Redis, the larger the province — the
    measurement grew with the size it measures. A shown total stays shown (views are
    versioned: an older one never replaces a newer one). Gives up after ``limit`` seconds;
    returns how many are not shown (0: all)."""
    pending = dict(want)
    started = time.perf_counter()
    while True:
        await _drop_visible(redis, pending, planned)
        if not pending or (limit is not None and time.perf_counter() - started > limit):
            return len(pending)
        await asyncio.sleep(poll)


class FeedWatch:
    """Watches the read models' feed (``siaga:feed``, one entry per applied change, what the
    dashboard's live view follows) from the moment it is made, until every shelter in ``want``
    has shown its wanted total, and until a plan's view (not the quick view) has.

    The observer costs what the system changes, not what it waits for: polling the views of
    the shelters not shown yet read 1,000 views of 5 KB every 50 ms during a burst over 1,000
    shelters — about a core of the bench's JSON parsing, on the two cores the worker, the
    broker and Redis share — where the burst in a small province left 25 to poll. An entry's
    ``entity`` and ``id`` fields are read first; only a wanted shelter's JSON is parsed."""

    def __init__(self, redis: Redis, want: dict[str, int]) -> None:
        self.redis = redis
        self.shown = dict(want)
        self.planned = dict(want)
        self.shown_at = 0.0
        self.planned_at = 0.0
        self._last_id: Any = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FeedWatch:
        self._last_id = (await self.redis.xinfo_stream(FEED))["last-generated-id"]
        self._task = asyncio.create_task(self._follow())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _see(self, shelter_id: str, data: dict[str, Any], now: float) -> None:
        total = (data.get("headcount") or {}).get("total")
        if self.shown.get(shelter_id) == total:
            del self.shown[shelter_id]
            if not self.shown:
                self.shown_at = now
        if self.planned.get(shelter_id) == total and not data.get("plan_pending"):
            del self.planned[shelter_id]
            if not self.planned:
                self.planned_at = now

    async def _follow(self) -> None:
        idle_since = time.perf_counter()
        while self.shown or self.planned:
            reply: Any = await self.redis.xread({FEED: self._last_id}, count=2000, block=200)
            now = time.perf_counter()
            for _, entries in reply or []:
                for entry_id, fields in entries:
                    self._last_id = entry_id
                    if fields.get(b"entity") != b"shelter" or fields.get(b"deleted") == b"1":
                        continue
                    sid = fields[b"id"].decode()
                    if sid in self.shown or sid in self.planned:
                        self._see(sid, json.loads(fields[b"json"]), now)
            if reply:
                idle_since = now
            elif now - idle_since > 2.0:
                # nothing new for 2 s: read what is left directly (a feed trimmed under a
                # long run must not leave the watch waiting for entries it no longer holds)
                idle_since = now
                if self.shown:
                    await _drop_visible(self.redis, self.shown)
                    self.shown_at = self.shown_at or (0.0 if self.shown else now)
                if self.planned:
                    await _drop_visible(self.redis, self.planned, planned=True)
                    self.planned_at = self.planned_at or (0.0 if self.planned else now)

    async def wait(self, planned: bool = False) -> float:
        """Seconds (perf_counter) at which every wanted shelter was shown (``planned``: by a
        plan)."""
        while self.planned if planned else self.shown:
            if self._task is not None and self._task.done():
                await self._task  # raises what stopped it
            await asyncio.sleep(0.02)
        return self.planned_at if planned else self.shown_at


async def bench_province_size(stack: Stack, shelters: int, updates: int, rate: float,
                              latency_events: int, db: int, plan_processes: int = 1
                              ) -> dict[str, Any]:
    """One province of ``shelters``: throughput of ``updates`` headcounts produced at once
    (produced → every read model shows its last total), then p50/p99 latency of
    ``latency_events`` headcounts offered at ``rate``/s; peak worker RSS throughout."""
    from siaga.synthetic import province_disaster

    settings = stack.settings(db, plan_processes=plan_processes)
    redis = Redis.from_url(settings.redis_url or "")
    await redis.flushdb()
    await ensure_topics(settings)
    disaster = province_disaster("32", shelters, updates=updates + latency_events,
                                 warehouses=6, teams=20, tag=f"b{shelters}")
    proc = start_worker(settings, f"size{shelters}-p{plan_processes}")
    peak = [0.0]
    sampling = True

    async def sample() -> None:
        while sampling:
            peak[0] = max(peak[0], _rss_mb(proc.pid))
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    measured_from = datetime.now()  # noqa: DTZ005 - moved to the first burst below
    try:
        await produce(settings, disaster.setup)
        first = {e.shelter_id: e.total for e in disaster.setup
                 if isinstance(e, ev.ShelterHeadcountReported)}
        setup_start = time.perf_counter()
        # settled = every shelter shown by a plan made from its headcount (not only by the
        # quick view), so the burst below does not compete with the setup's own plans
        await _wait_visible(redis, first, planned=True, poll=0.2)
        setup_seconds = time.perf_counter() - setup_start
        # ... and the worker done with the setup's tail (write-back, escalations, the
        # national tier), so the burst measures the burst
        quiet_seconds = await wait_quiet(redis, settings, proc)
        profiler = _profile_burst(proc, f"size{shelters}")
        measured_from = datetime.now()  # noqa: DTZ005 - the worker's log is in local time
        burst_at, elapsed, plan_elapsed = await _timed_burst(
            redis, settings, disaster.headcounts[:updates])
        if profiler is not None:
            import signal as signals

            profiler.send_signal(signals.SIGINT)  # py-spy writes its samples on Ctrl-C
            profiler.wait(30)
        await wait_quiet(redis, settings, proc)
        # latency at a steady rate: produced -> the shelter's read model shows it
        events = disaster.headcounts[updates:]
        last_id = (await redis.xinfo_stream(FEED))["last-generated-id"]
        pending = {str(h.event_id): h for h in events}
        by_shelter: dict[str, list[tuple[int, str]]] = {}
        for h in events:
            by_shelter.setdefault(h.shelter_id, []).append((h.total, str(h.event_id)))
        sent_at: dict[str, float] = {}
        latencies: list[float] = []
        plan_latencies: list[float] = []
        plan_pending = {str(h.event_id): h for h in events}
        plan_queue = {sid: list(q) for sid, q in by_shelter.items()}
        done = asyncio.Event()

        async def watch() -> None:
            nonlocal last_id
            deadline = None
            while pending or plan_pending:
                if done.is_set():
                    deadline = deadline or time.perf_counter() + 60
                    if time.perf_counter() > deadline:
                        return
                reply: Any = await redis.xread({FEED: last_id}, count=1000, block=200)
                now = time.perf_counter()
                for _, entries in reply or []:
                    for entry_id, fields in entries:
                        last_id = entry_id
                        if fields[b"entity"] != b"shelter":
                            continue
                        data = json.loads(fields[b"json"])
                        total = (data.get("headcount") or {}).get("total")
                        queue = by_shelter.get(data["shelter_id"], [])
                        # totals are random: the report is shown once its total is
                        while queue and total == queue[0][0]:
                            _, event_id = queue.pop(0)
                            pending.pop(event_id, None)
                            if event_id in sent_at:
                                latencies.append(now - sent_at[event_id])
                        if data.get("plan_pending"):
                            continue
                        # ... and planned once a plan's view (not a quick view) shows it or
                        # a newer report (plans coalesce: one may skip a report's total)
                        queue = plan_queue.get(data["shelter_id"], [])
                        totals = [t for t, _ in queue]
                        if total in totals:
                            for _, event_id in queue[: totals.index(total) + 1]:
                                plan_pending.pop(event_id, None)
                                if event_id in sent_at:
                                    plan_latencies.append(now - sent_at[event_id])
                            del queue[: totals.index(total) + 1]

        watcher = asyncio.create_task(watch())
        await produce(settings, events, rate=rate, sent=sent_at)
        done.set()
        await watcher
        # the same burst on only TOUCHED shelters of this province: what a burst costs when as
        # many shelters change as in the smallest province, here in a province of `shelters`
        await wait_quiet(redis, settings, proc)
        touched_at, c_elapsed, c_plan_elapsed = await _timed_burst(
            redis, settings, _concentrated(disaster, updates))
        # sustained: SUSTAINED times as many on the same shelters, produced at once. A burst
        # of 4,000 lasts under a second where the smallest province takes it in; its
        # throughput is then mostly one plan's time. Over a longer run plans coalesce ever
        # more reports, and what is left is the cost per report.
        await wait_quiet(redis, settings, proc)
        sustained = _concentrated(disaster, SUSTAINED * updates, tag="sustained")
        sustained_at, s_elapsed, s_plan_elapsed = await _timed_burst(redis, settings, sustained)
    finally:
        sampling = False
        await sampler
        log_text = proc.log_path.read_text(errors="ignore") if proc.log_path else ""
        replans = log_text.count("re-planned province")
        stalls, worst_stall = loop_stalls(log_text, measured_from) if log_text else (0, 0.0)
        proc.stop()
        await redis.aclose()
    latencies.sort()
    plan_latencies.sort()
    return {
        "shelters": shelters,
        "setup_events": len(disaster.setup),
        "setup_seconds": setup_seconds,
        "setup_tail_seconds": quiet_seconds,
        "updates": updates,
        "seconds": elapsed,
        "events_per_s": updates / elapsed,
        "plan_seconds": plan_elapsed,
        "planned_events_per_s": updates / plan_elapsed,
        "plan_latency_observed": len(plan_latencies),
        "plan_p50_ms": 1000 * statistics.median(plan_latencies) if plan_latencies
        else float("nan"),
        "plan_p99_ms": 1000 * plan_latencies[int(0.99 * (len(plan_latencies) - 1))]
        if plan_latencies else float("nan"),
        "latency_offered_per_s": rate,
        "latency_observed": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies
        else float("nan"),
        "peak_worker_rss_mb": peak[0],
        "replans": replans,
        # the worker's event loop held 100 ms or more, from the first burst to the end
        "loop_stalls": stalls,
        "loop_worst_stall_s": worst_stall,
        "plan_processes": plan_processes,
        "touched": TOUCHED,
        # when each burst began (UTC, as the worker logs): what else the worker was doing
        "burst_started_at": burst_at.isoformat(timespec="milliseconds"),
        "touched_started_at": touched_at.isoformat(timespec="milliseconds"),
        "touched_events_per_s": updates / c_elapsed,
        "touched_planned_events_per_s": updates / c_plan_elapsed,
        "sustained_updates": len(sustained),
        "sustained_started_at": sustained_at.isoformat(timespec="milliseconds"),
        "sustained_events_per_s": len(sustained) / s_elapsed,
        "sustained_planned_events_per_s": len(sustained) / s_plan_elapsed,
    }


async def _timed_burst(redis: Redis, settings: Any, events: list[Any]
                       ) -> tuple[datetime, float, float]:
    """Produce headcount ``events`` at once: when that began (UTC, to line it up with the
    worker's log), and the seconds until every shelter shows its last total, and until a
    plan's view (needs, shipments, shortfalls made from it) does."""
    want = {h.shelter_id: h.total for h in events}
    async with FeedWatch(redis, want) as feed:
        start = time.perf_counter()
        began = datetime.now(UTC)
        await produce(settings, events)
        shown = await feed.wait() - start
        planned = await feed.wait(planned=True) - start
    return began, shown, planned


TOUCHED = 25
SUSTAINED = 10  # the sustained burst: this many times the burst, on the TOUCHED shelters


def _profile_burst(proc: ManagedProcess, name: str) -> Any:
    """With ``BENCH_PROFILE_DIR`` set: py-spy samples the worker's threads and its planning
    process from the burst's first record until its plans are shown (``<dir>/<name>.txt``,
    collapsed stacks), to see where a burst's time goes."""
    import shutil
    import subprocess

    out_dir = os.environ.get("BENCH_PROFILE_DIR")
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not out_dir or not Path(spy).exists():
        return None
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(  # noqa: S603 - our own tool on our own worker
        [spy, "record", "-p", str(proc.pid), "-r", "200", "--format", "raw", "--nonblocking",
         "--subprocesses", "-o", str(Path(out_dir) / f"{name}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _concentrated(disaster: Any, updates: int, tag: str = "touched"
                  ) -> list[ev.ShelterHeadcountReported]:
    """``updates`` new headcounts cycling over the province's first ``TOUCHED`` shelters (new
    ids, stamped now, totals from the synthetic updates, cycled when there are fewer).

    Each shelter's last report carries a total none of its earlier ones had (one more than
    their largest, when needed): the watch takes a shelter's wanted total, wherever it shows,
    for its last report, and with 160 reports per shelter a random total repeats."""
    shelter_ids = [sid for _, sid in disaster.shelter_ids[:TOUCHED]]
    now = datetime.now(UTC)
    source = disaster.headcounts
    out = [source[i % len(source)].model_copy(update={
        "event_id": uuid.uuid5(uuid.NAMESPACE_URL, f"{tag}|{source[i % len(source)].event_id}|{i}"),
        "shelter_id": shelter_ids[i % len(shelter_ids)],
        "occurred_at": now - timedelta(seconds=updates - i)})
        for i in range(updates)]
    last: dict[str, int] = {}
    totals: dict[str, list[int]] = {}
    for i, h in enumerate(out):
        last[h.shelter_id] = i
        totals.setdefault(h.shelter_id, []).append(h.total)
    for sid, i in last.items():
        earlier = totals[sid][:-1]
        if out[i].total in earlier:
            out[i] = out[i].model_copy(update={"total": max(earlier) + 1})
    return out


LOAD_LIMIT = 900.0  # seconds the 20,000-shelter load may take before the restart is timed


async def bench_recovery(stack: Stack, total_shelters: int, db: int) -> dict[str, Any]:
    """20,000 shelters across the 38 provinces: load, then restart the worker and time until
    it reports itself ready again (tables recovered from their changelogs, caught up)."""
    from siaga.synthetic import all_provinces, province_disaster
    from siaga.workers import worker_status

    settings = stack.settings(db)
    redis = Redis.from_url(settings.redis_url or "")
    await redis.flushdb()
    await ensure_topics(settings)
    provinces = all_provinces()
    per = total_shelters // len(provinces) + 1
    setup: list[ev.Envelope] = []
    want: dict[str, int] = {}
    for province in provinces:
        d = province_disaster(province, per, warehouses=2, teams=3, tag="rec")
        setup += d.setup
        want.update({e.shelter_id: e.total for e in d.setup
                     if isinstance(e, ev.ShelterHeadcountReported)})
    proc = start_worker(settings, "recovery-a")
    try:
        start = time.perf_counter()
        await produce(settings, setup)
        settled = True
        # settled = every shelter shown by a plan made from its headcount, then the worker
        # quiet: stopped earlier, the restart also made the plans still owed (in one run
        # 20 of 38 provinces: 37 of the 83 s "restart to ready" were those plans)
        missing = await _wait_visible(redis, want, planned=True, poll=0.5,
                                      limit=LOAD_LIMIT - (time.perf_counter() - start))
        if missing:
            say(f"recovery bench: only {len(want) - missing} of {len(want)} shelters settled "
                f"after {LOAD_LIMIT:.0f} s; restarting anyway")
            settled = False
        if settled:
            await wait_quiet(redis, settings, proc)
        load_seconds = time.perf_counter() - start
        rss_loaded = _rss_mb(proc.pid)
    finally:
        proc.stop()
    await redis.delete("siaga:workers")
    start = time.perf_counter()
    # faust says "Worker ready" once its tables are recovered: minutes at this size
    proc = start_worker(settings, "recovery-b", timeout=LOAD_LIMIT)
    try:
        while not (await worker_status(redis, settings.app_id))["ready"]:
            await asyncio.sleep(0.2)
        recovered = time.perf_counter() - start
        rss_recovered = _rss_mb(proc.pid)
    finally:
        proc.stop()
        await redis.aclose()
    return {"shelters": len(want), "provinces": len(provinces), "events": len(setup),
            "load_seconds": load_seconds, "load_settled": settled,
            "restart_to_ready_seconds": recovered,
            "worker_rss_mb_loaded": rss_loaded, "worker_rss_mb_after_recovery": rss_recovered}


async def main_province_sizes(sizes: list[int], quick: bool, broker: str = "tansu",
                              compare_thread: bool = False) -> dict[str, Any]:
    data_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"siaga-bench-{uuid.uuid4().hex[:6]}"
    stack = Stack(data_dir, broker)
    say(f"broker: {broker} (workers on the {stack.profile} profile)")
    results: dict[str, Any] = {"sizes": {}, "broker": broker, "profile": stack.profile}
    updates = 1000 if quick else 4000
    latency_events = 200 if quick else 1000
    try:
        # The first phase ran on a cold broker (the JVM compiling its hot paths) and Redis,
        # and it is the reference every ratio divides by: the 25-shelter province measured
        # 1,000–4,600 headcounts/s from run to run. A warm-up round of the first size,
        # reported but not used, goes first.
        w = await bench_province_size(stack, sizes[0], updates, 100.0, latency_events, db=4)
        results["warm_up"] = w
        say(f"warm-up ({sizes[0]} shelters, not used): {w['events_per_s']:,.0f} headcounts/s "
            f"shown, {w['planned_events_per_s']:,.0f}/s planned")
        for i, n in enumerate(sizes):
            r = await bench_province_size(stack, n, updates, 100.0, latency_events, db=5 + i)
            results["sizes"][str(n)] = r
            say(f"{n} shelters in one province: {r['events_per_s']:,.0f} headcounts/s shown, "
                f"{r['planned_events_per_s']:,.0f}/s planned; at 100/s shown p50 "
                f"{r['p50_ms']:.0f} / p99 {r['p99_ms']:.0f} ms, planned p50 "
                f"{r['plan_p50_ms']:.0f} / p99 {r['plan_p99_ms']:.0f} ms; peak worker "
                f"RSS {r['peak_worker_rss_mb']:.0f} MB, {r['replans']} re-plans; set-up "
                f"{r['setup_seconds']:.1f} s + its tail {r['setup_tail_seconds']:.1f} s; "
                f"bursts began {r['burst_started_at'][11:23]} and "
                f"{r['touched_started_at'][11:23]} UTC; the burst on {r['touched']} of its "
                "shelters: "
                f"{r['touched_events_per_s']:,.0f}/s shown, "
                f"{r['touched_planned_events_per_s']:,.0f}/s planned; sustained "
                f"({r['sustained_updates']:,} on them, began "
                f"{r['sustained_started_at'][11:23]} UTC): "
                f"{r['sustained_events_per_s']:,.0f}/s shown, "
                f"{r['sustained_planned_events_per_s']:,.0f}/s planned; event loop held "
                f"100 ms or more {r['loop_stalls']} times (worst "
                f"{r['loop_worst_stall_s']:.2f} s)")
            if compare_thread:
                t = await bench_province_size(stack, n, updates, 100.0, latency_events,
                                              db=5 + i, plan_processes=0)
                results.setdefault("plans_in_thread", {})[str(n)] = t
                say(f"  same, plans in a thread: {t['events_per_s']:,.0f} headcounts/s, "
                    f"p50 {t['p50_ms']:.0f} ms / p99 {t['p99_ms']:.0f} ms")
        if not quick:
            results["recovery"] = await bench_recovery(stack, 20_000, db=12)
            r = results["recovery"]
            say(f"recovery at {r['shelters']} shelters: restart to ready "
                f"{r['restart_to_ready_seconds']:.1f} s (load {r['load_seconds']:.0f} s)")
    finally:
        stack.stop()
    for group in ("sizes", "plans_in_thread"):
        if group not in results:
            continue
        base = results[group][str(sizes[0])]["events_per_s"]
        plan_base = results[group][str(sizes[0])]["planned_events_per_s"]
        for n in sizes:
            results[group][str(n)]["throughput_ratio_vs_smallest"] = (
                results[group][str(n)]["events_per_s"] / base)
            results[group][str(n)]["planned_ratio_vs_smallest"] = (
                results[group][str(n)]["planned_events_per_s"] / plan_base)
            # the burst on TOUCHED shelters against the smallest province's burst (which
            # touches as many): province size alone
            results[group][str(n)]["touched_ratio_vs_smallest"] = (
                results[group][str(n)]["touched_events_per_s"] / base)
            results[group][str(n)]["touched_planned_ratio_vs_smallest"] = (
                results[group][str(n)]["touched_planned_events_per_s"] / plan_base)
            # like for like: the same burst in the smallest province, measured the same way
            # (its burst over all shelters comes first in its phase and ran up to 3.5x
            # slower than this one on the very same 25 shelters)
            smallest = results[group][str(sizes[0])]
            results[group][str(n)]["touched_ratio_vs_smallest_touched"] = (
                results[group][str(n)]["touched_events_per_s"] / smallest["touched_events_per_s"])
            results[group][str(n)]["touched_planned_ratio_vs_smallest_touched"] = (
                results[group][str(n)]["touched_planned_events_per_s"]
                / smallest["touched_planned_events_per_s"])
            for measure in ("sustained_events_per_s", "sustained_planned_events_per_s"):
                results[group][str(n)][measure.replace("_events_per_s", "_ratio")] = (
                    results[group][str(n)][measure] / smallest[measure])
    results["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "date": datetime.now(UTC).date().isoformat()}
    results["quick"] = quick
    return results


if __name__ == "__main__":
    import signal

    # A terminated run must still stop the broker, Redis and workers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (under two minutes)")
    parser.add_argument(
        "--province-shelters", type=int, nargs="*", metavar="N",
        help="instead: throughput and latency with one province of N shelters, for each N "
        "side by side (default 25 500 2000), and recovery at 20,000 shelters (not in --quick)")
    parser.add_argument(
        "--compare-thread", action="store_true",
        help="with --province-shelters: each size also with plans in a thread of the worker "
        "(plan_processes=0), side by side")
    parser.add_argument(
        "--broker", choices=("kafka", "tansu", "both"), default=None,
        help="Apache Kafka (production profile), Tansu (local profile) or both one after the "
        "other (the default; --province-shelters: Apache Kafka when it can run here)")
    args = parser.parse_args()

    def kafka_or_tansu() -> str:
        from siaga.apache_kafka import kafka_available

        reason = kafka_available()
        if reason is not None:
            say(f"Apache Kafka cannot run here ({reason}): Tansu only")
        return "kafka" if reason is None else "tansu"

    if args.province_shelters is not None:
        if args.broker == "both":
            parser.error("--province-shelters runs on one broker: --broker kafka or tansu")
        sizes = args.province_shelters or [25, 500, 2000]
        out = asyncio.run(main_province_sizes(sizes, args.quick, args.broker or kafka_or_tansu(),
                                              args.compare_thread))
        for group in ("sizes", "plans_in_thread"):
            for n, r in out.get(group, {}).items():
                say(f"{n:>5} shelters{' (plans in a thread)' if group != 'sizes' else ''}: "
                    f"shown {r['events_per_s']:,.0f}/s (x{r['throughput_ratio_vs_smallest']:.2f} "
                    f"of {sizes[0]}), p99 {r['p99_ms']:.0f} ms; planned "
                    f"{r['planned_events_per_s']:,.0f}/s "
                    f"(x{r['planned_ratio_vs_smallest']:.2f}), p99 {r['plan_p99_ms']:.0f} ms; "
                    f"burst on {r['touched']} shelters: shown "
                    f"x{r['touched_ratio_vs_smallest']:.2f}, planned "
                    f"x{r['touched_planned_ratio_vs_smallest']:.2f} (against the same burst "
                    f"there: shown x{r['touched_ratio_vs_smallest_touched']:.2f}, planned "
                    f"x{r['touched_planned_ratio_vs_smallest_touched']:.2f}); sustained: "
                    f"shown x{r['sustained_ratio']:.2f}, planned "
                    f"x{r['sustained_planned_ratio']:.2f}")
        print(json.dumps(out, default=float))
        sys.exit(0)
    if args.broker in (None, "both"):
        brokers = ["kafka", "tansu"] if kafka_or_tansu() == "kafka" else ["tansu"]
    else:
        brokers = [args.broker]
    out = asyncio.run(main(args.quick, brokers))
    for broker, r in out["brokers"].items():
        say(f"{broker}: 1 worker {r['siaga_1_worker']['events_per_s']:,.0f}/s = "
            f"{r['ratio_1_worker_vs_passthrough']:.2f}x pass-through "
            f"({r['faust_passthrough']['events_per_s']:,.0f}/s), "
            f"{r['ratio_1_worker_vs_raw']:.3f}x raw aiokafka; 2 workers "
            f"{r['ratio_2_workers_vs_passthrough']:.2f}x pass-through; latency p50/p99 "
            f"{r['latency_100']['p50_ms']:.0f}/{r['latency_100']['p99_ms']:.0f} ms at 100/s, "
            f"{r['latency_1000']['p50_ms']:.0f}/{r['latency_1000']['p99_ms']:.0f} ms at 1,000/s")
    print(json.dumps(out, default=float))
