"""API benchmarks: authenticated POST throughput and live-dashboard fan-out latency.

    python -m bench.api --quick     # ~30 s
    python -m bench.api             # full run

(a) Authenticated ``POST /api/v1/incidents`` through the real stack (bearer token
    look-up, validation, geo resolution, idempotency record in Redis, publish to
    the Kafka-protocol broker with acks=all) against a bare FastAPI endpoint
    (``POST /bench/bare``: JSON body parsed, 202 with an id) served by the same
    uvicorn process in the same run; requests/s and the ratio.
(b) N live-dashboard clients on ``GET /api/v1/live`` (server-sent events): changes
    are written to the Redis read model with ``apply_change`` exactly as the
    projector does, and each client records when each change arrives; p50/p99 of
    event → client latency, and of event → *every* client (the slowest client).

Starts its own broker and Redis (embedded, as `siaga run` does) and one API
process. The last printed line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

ROOT = Path(__file__).resolve().parent.parent


def bench_app() -> FastAPI:
    """The real API plus one bare endpoint, in the same process (uvicorn factory)."""
    from api.app import create_app

    app = create_app()

    @app.post("/bench/bare", status_code=202, include_in_schema=False)
    async def bare(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse({"event_id": body.get("event_id"), "status": "accepted"}, 202)

    return app


# ---------------------------------------------------------------- load generator


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


def _request(host: str, path: str, token: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _incident_body() -> bytes:
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "incident_type": "earthquake",
            "location": {"lat": -6.84, "lon": 107.05},
            "severity": 4,
            "displaced": 5389,
            "posko_id": "posko-bench",
        }
    ).encode()


async def _post_loop(
    port: int, path: str, token: str, seconds: float, connections: int
) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(_request("127.0.0.1", path, token, _incident_body()))
                status, _ = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return {"statuses": statuses, "elapsed": elapsed, "latencies": latencies}


def _post_worker(args: tuple[int, str, str, float, int]) -> dict[str, Any]:
    return asyncio.run(_post_loop(*args))


def measure_posts(
    port: int, path: str, token: str, seconds: float, procs: int, connections: int
) -> dict[str, Any]:
    with mp.get_context("spawn").Pool(procs) as pool:
        results = pool.map(
            _post_worker, [(port, path, token, seconds, connections)] * procs
        )
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    for r in results:
        for status, count in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
        latencies += r["latencies"]
    total = sum(statuses.values())
    elapsed = max(r["elapsed"] for r in results)
    latencies.sort()
    return {
        "requests": total,
        "rps": total / elapsed,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


# ---------------------------------------------------------------- live clients


async def _sse_clients(
    port: int, token: str, after: str, clients: int, expected: int, timeout: float,
    ready: Any,
) -> list[dict[str, float]]:
    """Each client: {event seq → arrival − sent seconds}."""
    connected = 0
    all_ready = asyncio.Event()

    async def one() -> dict[str, float]:
        nonlocal connected
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        writer.write(
            f"GET /api/v1/live?after={after} HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        await reader.readuntil(b"\r\n\r\n")
        connected += 1
        if connected == clients:
            all_ready.set()
        got: dict[str, float] = {}
        try:
            while len(got) < expected:
                line = await reader.readline()
                if not line:
                    break
                # chunked transfer: frames come as "<hex size>\r\n<data>\r\n"; data lines
                # are whole SSE lines because each frame is written in one piece
                if line.startswith(b"data: "):
                    now = time.time()
                    payload = json.loads(line[6:])
                    data = payload["data"]
                    if "sent_at" in data:
                        got[payload["id"]] = now - data["sent_at"]
        finally:
            writer.close()
        return got

    tasks = [asyncio.create_task(one()) for _ in range(clients)]
    await asyncio.wait_for(all_ready.wait(), timeout=60)
    ready.set()
    done = await asyncio.wait_for(asyncio.gather(*tasks), timeout=timeout)
    return list(done)


def _sse_worker(args: tuple[int, str, str, int, int, float, Any]) -> list[dict[str, float]]:
    return asyncio.run(_sse_clients(*args))


async def _emit(redis_url: str, events: int, rate: float) -> None:
    from redis.asyncio import Redis

    from siaga.readmodel import apply_change

    redis = Redis.from_url(redis_url)
    try:
        for n in range(events):
            sent_at = time.time()
            await apply_change(
                redis,
                {
                    "entity": "incident",
                    "id": f"bench-live-{n}",
                    "province_code": "32",
                    "version": f"{time.time_ns():020d}",
                    "score": sent_at,
                    "data": {
                        "incident_id": f"bench-live-{n}",
                        "province_code": "32",
                        "severity": 3,
                        "location": {"lat": -6.84, "lon": 107.05},
                        "sent_at": sent_at,
                    },
                },
            )
            await asyncio.sleep(1 / rate)
    finally:
        await redis.aclose()


def measure_live(
    port: int, token: str, redis_url: str, clients: int, events: int, rate: float, procs: int
) -> dict[str, Any]:
    from redis import Redis

    newest: Any = Redis.from_url(redis_url).xrevrange("siaga:feed", count=1)
    after = newest[0][0].decode() if newest else "0-0"
    ctx = mp.get_context("spawn")
    manager = ctx.Manager()
    readies = [manager.Event() for _ in range(procs)]
    per_proc = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    timeout = events / rate + 60
    with ctx.Pool(procs) as pool:
        pending = pool.map_async(
            _sse_worker,
            [(port, token, after, n, events, timeout, readies[i]) for i, n in enumerate(per_proc)],
        )
        for ready in readies:
            if not ready.wait(90):
                raise RuntimeError("live clients did not connect")
        time.sleep(0.5)
        asyncio.run(_emit(redis_url, events, rate))
        results = [got for chunk in pending.get(timeout + 30) for got in chunk]
    manager.shutdown()
    latencies = sorted(v for got in results for v in got.values())
    per_event: dict[str, float] = {}
    for got in results:
        for event_id, value in got.items():
            per_event[event_id] = max(per_event.get(event_id, 0.0), value)
    every = sorted(per_event.values())
    complete = sum(1 for got in results if len(got) == events)

    def pct(values: list[float], q: float) -> float:
        return 1000 * values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")

    return {
        "clients": clients,
        "events": events,
        "rate_per_s": rate,
        "clients_with_every_event": complete,
        "deliveries": len(latencies),
        "p50_ms": pct(latencies, 0.5),
        "p99_ms": pct(latencies, 0.99),
        "every_client_p50_ms": pct(every, 0.5),
        "every_client_p99_ms": pct(every, 0.99),
        "mean_ms": 1000 * statistics.fmean(latencies) if latencies else float("nan"),
    }


# ---------------------------------------------------------------- orchestration


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (~30 s)")
    args = parser.parse_args(argv)
    quick = args.quick
    seconds = 3.0 if quick else 15.0
    rounds = 1 if quick else 2
    clients = 100 if quick else 500
    events = 30 if quick else 200
    rate = 10.0 if quick else 20.0

    from siaga.kafka import ensure_topics, wait_for_broker
    from siaga.local import free_port, spawn, start_broker, start_redis
    from siaga.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="siaga-bench-api-"))
    broker, bootstrap = start_broker(workdir)
    redis_proc, redis_url = start_redis(workdir)
    api_proc = None
    try:
        port = free_port()
        settings = Settings(
            kafka_bootstrap_servers=bootstrap,
            redis_url=redis_url,
            kafka_profile="local",
            topic_prefix="bench",
            data_dir=workdir / "data",
            api_port=port,
            log_level="WARNING",
        )
        asyncio.run(wait_for_broker(bootstrap))
        asyncio.run(ensure_topics(settings))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
        env.update(settings.as_env())
        api_proc = spawn(
            "api",
            [sys.executable, "-m", "uvicorn", "bench.api:bench_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
             "--no-access-log"],
            workdir / "api.log",
            env=env,
            cwd=ROOT,
        )
        _wait_healthy(port)
        poster = make_token(redis_url, "command_post", posko_id="posko-bench", province_code="32")
        reader = make_token(redis_url, "coordinator")
        procs, connections = 1, 32
        measure_posts(port, "/api/v1/incidents", poster, 1.0, procs, 8)  # warm-up
        bare_runs, real_runs = [], []
        for _ in range(rounds):
            bare_runs.append(
                measure_posts(port, "/bench/bare", poster, seconds, procs, connections)
            )
            real_runs.append(
                measure_posts(port, "/api/v1/incidents", poster, seconds, procs, connections)
            )
        bare_rps = statistics.fmean(r["rps"] for r in bare_runs)
        real_rps = statistics.fmean(r["rps"] for r in real_runs)
        print(f"bare FastAPI endpoint: {bare_runs}")
        print(f"authenticated POST /api/v1/incidents: {real_runs}")
        live = measure_live(port, reader, redis_url, clients, events, rate, procs=2)
        print(f"live: {live}")
        result = {
            "bench": "api",
            "quick": quick,
            "cpus": os.cpu_count(),
            "post": {
                "seconds_per_round": seconds,
                "rounds": rounds,
                "connections": procs * connections,
                "authenticated_rps": round(real_rps, 1),
                "bare_rps": round(bare_rps, 1),
                "ratio": round(real_rps / bare_rps, 3),
                "authenticated_p50_ms": round(statistics.fmean(r["p50_ms"] for r in real_runs), 2),
                "authenticated_p99_ms": round(statistics.fmean(r["p99_ms"] for r in real_runs), 2),
                "statuses": real_runs[-1]["statuses"],
            },
            "live": {k: round(v, 2) if isinstance(v, float) else v for k, v in live.items()},
        }
        print(json.dumps(result))
        return 0
    finally:
        if api_proc is not None:
            api_proc.stop()
        redis_proc.stop()
        broker.stop()


def make_token(redis_url: str, role: str, **scope: Any) -> str:
    from redis import Redis

    from siaga import tokens

    principal = tokens.make_principal(role, label="bench", **scope)
    token = tokens.new_token()
    Redis.from_url(redis_url).hset(
        tokens.TOKENS_KEY, tokens.hash_token(token), json.dumps(principal.as_json())
    )
    return token


def _wait_healthy(port: int, timeout: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("api not healthy")


if __name__ == "__main__":
    sys.exit(main())
