"""Worker takeover on a 3-node Apache Kafka cluster (issue 11). ``python -m bench.takeover
[--shelters-per-province N]``; the last line is JSON.

Two Siaga workers (production profile: standby replicas on) share 4 partitions on a 3-node
KRaft cluster started here (replication 3, ``min.insync.replicas`` 2), Redis started here.
Shelters in 8 provinces, two on each partition, are registered and counted. Then, three
times, a new headcount for every shelter goes in at once and the time until the read model
shows all of them is measured:

1. **no fault** (both workers up): the reference — what processing the batch itself costs;
2. **graceful**: worker A sent SIGTERM just before (it leaves the group as it stops; B takes
   over without waiting for a session to expire), A started again afterwards;
3. **crash**: worker A SIGKILLed just before (B waits for A's session to expire, 10 s, then
   takes over), and not restarted.

Each time runs from the signal (for the reference, from the first send) to the read model
showing the last of the new headcounts.

Printed: each time, and the ratios crash / no fault and crash / graceful.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from redis.asyncio import Redis

from siaga import events as ev
from siaga import readmodel
from siaga.apache_kafka import KAFKA_VERSION, start_kafka_cluster
from siaga.catalogue import topic_for_event_type
from siaga.kafka import ensure_topics
from siaga.local import ManagedProcess, spawn, start_redis
from siaga.settings import Settings
from siaga.synthetic import kabupaten_points
from siaga.workers import worker_status

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 4
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def say(message: str) -> None:
    print(f"[bench.takeover] {message}", file=sys.stderr, flush=True)


def provinces_on_every_partition(per_partition: int = 2) -> list[str]:
    codes = sorted({line.split(",")[0] for line in resources.files("geo.data").joinpath(
        "provinces.csv").read_text().splitlines()[1:] if line})
    chosen: dict[int, list[str]] = {p: [] for p in range(PARTITIONS)}
    for code in codes:
        partition = int(murmur2(code.encode()) & 0x7FFFFFFF) % PARTITIONS
        if len(chosen[partition]) < per_partition and kabupaten_points(code):
            chosen[partition].append(code)
    return [code for codes_ in chosen.values() for code in codes_]


def shelters(provinces: list[str], per_province: int) -> list[ev.ShelterRegistered]:
    out = []
    for province in provinces:
        points = kabupaten_points(province)
        for i in range(per_province):
            lat, lon, code = points[i % len(points)]
            sid = f"sh-{province}-{i}"
            out.append(ev.ShelterRegistered(
                event_id=uuid.uuid4(), occurred_at=T0, source="bench", schema_version=1,
                shelter_id=sid, name=sid, location=ev.Location(lat=lat, lon=lon),
                province_code=province, kabupaten_code=code, posko_id="bench"))
    return out


def headcounts(registered: list[ev.ShelterRegistered], base: int,
               minutes: int) -> list[ev.ShelterHeadcountReported]:
    return [ev.ShelterHeadcountReported(
        event_id=uuid.uuid4(), occurred_at=T0 + timedelta(minutes=minutes), source="bench",
        schema_version=1, shelter_id=s.shelter_id, province_code=s.province_code,
        total=base + i, infants=5, children=20, elderly=10, pregnant_lactating=3, disabled=2,
        posko_id="bench") for i, s in enumerate(registered)]


async def produce(settings: Settings, events: list[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                linger_ms=5, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(
            settings.topic(topic_for_event_type(e.type).name), ev.encode_event(e),
            key=e.province_code.encode()) for e in events]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def wait_totals(redis: Redis, want: dict[str, int], timeout: float) -> float:
    """Seconds until every shelter of ``want`` shows its total; raises after ``timeout``."""
    started = time.monotonic()
    pending = dict(want)
    while pending:
        shown = await readmodel.get_entities(redis, "shelter", list(pending))
        for sid, data in shown.items():
            if data and (data.get("headcount") or {}).get("total") == pending[sid]:
                pending.pop(sid)
        if not pending:
            break
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{len(pending)} shelters not updated after {timeout:.0f} s: "
                               f"{sorted(pending)[:20]}")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


def start_worker(settings: Settings, name: str) -> ManagedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    env.update(settings.as_env())
    return spawn(name, [sys.executable, "-m", "siaga.cli", "worker"],
                 settings.data_dir / f"{name}.log", env=env, cwd=ROOT)


async def wait_ready(redis: Redis, settings: Settings, procs: list[ManagedProcess],
                     timeout: float = 180) -> None:
    """Until exactly ``procs`` report ready, each holding partitions."""
    pids = {p.pid for p in procs}
    deadline = time.monotonic() + timeout
    while True:
        status = await worker_status(redis, settings.app_id)
        ready = {int(str(w["worker_id"]).rsplit(":", 1)[1]) for w in status["workers"]
                 if w.get("ready") and w.get("partitions", 0) > 0}
        if ready == pids:
            return
        for proc in procs:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited; see {proc.log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers not ready after {timeout:.0f} s: {status}")
        await asyncio.sleep(0.25)


async def run(per_province: int, data_dir: Path) -> dict[str, Any]:
    started = time.monotonic()
    cluster = start_kafka_cluster(data_dir, nodes=3)
    redis_proc, redis_url = start_redis(data_dir)
    procs: list[ManagedProcess] = []
    try:
        settings = Settings(
            kafka_bootstrap_servers=cluster.bootstrap, redis_url=redis_url,
            kafka_profile="production", replication_factor=3, partitions=PARTITIONS,
            topic_prefix=f"tk{uuid.uuid4().hex[:6]}", app_id=f"takeover-{uuid.uuid4().hex[:6]}",
            data_dir=data_dir / "siaga", log_level="INFO")
        await ensure_topics(settings)
        redis = Redis.from_url(redis_url)
        provinces = provinces_on_every_partition()
        registered = shelters(provinces, per_province)
        a, b = start_worker(settings, "worker-a"), start_worker(settings, "worker-b")
        procs += [a, b]
        await wait_ready(redis, settings, [a, b])
        await produce(settings, registered)
        await produce(settings, headcounts(registered, 100, 1))
        await wait_totals(redis, {s.shelter_id: 100 + i for i, s in enumerate(registered)}, 300)
        say(f"{len(registered)} shelters in provinces {provinces} counted; two workers ready")
        await asyncio.sleep(3)  # standbys catch up on the changelogs

        results: dict[str, float] = {}
        for round_, (label, minutes) in enumerate(
                (("no_fault", 2), ("graceful", 3), ("crash", 4))):
            base = 1000 * (round_ + 2)
            signalled = time.monotonic()
            if label == "graceful":
                os.killpg(a.pid, signal.SIGTERM)  # A leaves the group as it stops
            elif label == "crash":
                os.killpg(a.pid, signal.SIGKILL)
            await produce(settings, headcounts(registered, base, minutes))
            want = {s.shelter_id: base + i for i, s in enumerate(registered)}
            await wait_totals(redis, want, 300)
            results[label] = time.monotonic() - signalled  # from the signal (or the send)
            say(f"{label}: all {len(want)} new headcounts shown {results[label]:.2f} s after "
                "the signal")
            if label != "no_fault":
                exit_code = await asyncio.to_thread(a.proc.wait, 120)
                say(f"worker A exited with {exit_code}")
            if label == "graceful":
                a = start_worker(settings, "worker-a2")
                procs.append(a)
                await wait_ready(redis, settings, [a, b])
                await asyncio.sleep(3)
        await redis.aclose()
    finally:
        for proc in procs:
            proc.stop()
        redis_proc.stop()
        cluster.stop()
    return {
        "shelters": len(registered),
        "seconds": {k: round(v, 2) for k, v in results.items()},
        "crash_over_no_fault": round(results["crash"] / results["no_fault"], 1),
        "crash_over_graceful": round(results["crash"] / results["graceful"], 1),
        "run_seconds": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shelters-per-province", type=int, default=60,
                        help="shelters in each of the 8 provinces (default 60: 480)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="siaga-bench-takeover-"))
    try:
        out = asyncio.run(run(args.shelters_per_province, tmp))
    except BaseException:
        say(f"failed: logs kept in {tmp / 'siaga'}")
        raise
    shutil.rmtree(tmp, ignore_errors=True)
    out.update(kafka=KAFKA_VERSION, python=platform.python_version(),
               machine=f"{os.cpu_count()} cores, {platform.machine()}",
               date=datetime.now(UTC).isoformat(timespec="minutes"))
    s = out["seconds"]
    print(f"{out['shelters']} shelters on 4 partitions, 2 workers, 3-node Kafka {KAFKA_VERSION}")
    print(f"  no fault (reference): {s['no_fault']:.2f} s")
    print(f"  graceful stop of A:   {s['graceful']:.2f} s")
    print(f"  SIGKILL of A:         {s['crash']:.2f} s  = {out['crash_over_no_fault']}x no fault, "
          f"{out['crash_over_graceful']}x graceful")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
