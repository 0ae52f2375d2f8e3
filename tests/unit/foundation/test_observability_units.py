"""The pure parts of observability: bounded dead-letter reason labels, W3C traceparent,
JSON log lines, the trusted networks of /metrics, the duty screen's text."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from api.metrics import allowed_networks, client_allowed
from siaga import tracing
from siaga.metrics import reason_kind, short_topic
from siaga.settings import Settings
from siaga.status import render


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("not valid JSON: Expecting value: line 1 column 2 (char 1)", "not valid JSON"),
        ("occurred_at: 2030-01-01T00:00:00+00:00 is 4 d ahead of the receiving clock",
         "occurred_at"),
        ("key: record key b'33' must equal province_code '32'", "key"),
        ("processing failed 3 times: PlanFailed: re-plan of province 32 failed: KeyError",
         "processing failed (PlanFailed)"),
        ("headcount.vulnerable.3.count: Input should be greater than 0; posko_id: missing",
         "headcount.vulnerable.#.count"),
        ("empty record (no value)", "empty record (no value)"),
        ("", "unknown"),
    ],
)
def test_a_dead_letter_reason_becomes_a_bounded_label(reason: str, kind: str) -> None:
    assert reason_kind(reason) == kind


def test_reasons_that_differ_only_in_their_details_share_one_label() -> None:
    kinds = {reason_kind(f"occurred_at: 2030-01-0{d}T00:00:00+00:00 is {d} d ahead")
             for d in range(1, 10)}
    assert kinds == {"occurred_at"}
    assert len(reason_kind("x" * 500)) <= 60


def test_short_topic_names_the_catalogue_topic() -> None:
    assert short_topic("siaga.shelters", "siaga") == "shelters"
    assert short_topic("other.shelters", "siaga") == "other.shelters"


def test_a_child_span_keeps_the_trace_and_a_bad_parent_starts_a_new_trace() -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    child = tracing.child(parent)
    assert tracing.trace_id(child) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert child != parent and tracing.parse(child) is not None
    for bad in (None, "", "garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-" + "0" * 16 + "-01"):
        fresh = tracing.child(bad)
        assert tracing.parse(fresh) is not None
        assert tracing.trace_id(fresh) != "0" * 32


def test_traceparent_is_found_in_faust_and_aiokafka_headers() -> None:
    value = tracing.child()
    assert tracing.from_headers({"traceparent": value.encode()}) == value
    assert tracing.from_headers([("traceparent", value.encode())]) == value
    assert tracing.from_headers([("traceparent", b"nonsense")]) is None
    assert tracing.from_headers(None) is None


def test_what_a_worker_sends_inside_a_trace_carries_a_child_of_it() -> None:
    assert tracing.outgoing_headers() is None
    parent = tracing.child()
    token = tracing.CURRENT.set(parent)
    try:
        headers = tracing.outgoing_headers()
    finally:
        tracing.CURRENT.reset(token)
    assert headers is not None and headers[0][0] == "traceparent"
    assert tracing.trace_id(headers[0][1]) == tracing.trace_id(parent)


def test_json_log_lines_carry_event_id_and_trace() -> None:
    record = logging.LogRecord("streams.plumbing", logging.INFO, __file__, 1,
                               "folded %s", ("x",), None)
    record.event_id = "e-1"
    record.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    line = json.loads(tracing.JsonFormatter().format(record))
    assert line["message"] == "folded x"
    assert line["event_id"] == "e-1"
    assert line["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert line["level"] == "INFO" and line["logger"] == "streams.plumbing"


def test_metrics_answer_only_the_trusted_networks() -> None:
    default = allowed_networks(Settings())
    assert client_allowed("127.0.0.1", default)
    assert client_allowed("::1", default)
    assert client_allowed("10.1.2.3", default)
    assert not client_allowed("8.8.8.8", default)
    assert not client_allowed("testclient", default)  # not an address: refused
    assert not client_allowed(None, default)
    assert client_allowed("8.8.8.8", allowed_networks(Settings(metrics_allowed_networks="any")))
    only = allowed_networks(Settings(metrics_allowed_networks="10.0.0.0/8"))
    assert not client_allowed("127.0.0.1", only)


def test_the_duty_screen_says_stale_and_lists_what_lags() -> None:
    screen = {
        "picture": {"stale": True, "age_seconds": 300.0, "stale_after_seconds": 30.0,
                    "workers": 0, "lag": None, "newest_change_age_seconds": 310.0,
                    "panels": {"shelter": {"age_seconds": 310.0}}},
        "kafka": {"group": "siaga-worker", "total_lag": 12,
                  "lag": [{"topic": "shelters", "partition": 2, "committed": 30, "end": 42,
                           "lag": 12},
                          {"topic": "shelters", "partition": 0, "committed": 5, "end": 5,
                           "lag": 0}],
                  "deadletters": [{"topic": "shelters", "reason": "occurred_at", "count": 3}]},
        "plans": {"32": "2026-12-01T10:00:00+00:00"},
    }
    text = render(screen)
    assert "picture: STALE — caught up 5 min ago (limit 30 s); 0 worker(s) reporting" in text
    assert "shelters[2] lag 12 (committed 30, end 42)" in text
    assert "shelters[0]" not in text
    assert "dead letters: 3" in text and "occurred_at" in text
    assert "32  2026-12-01T10:00:00+00:00" in text


async def test_a_scrape_says_the_pipeline_view_is_down_when_kafka_cannot_be_reached() -> None:
    from types import SimpleNamespace

    from prometheus_client import generate_latest

    from api.metrics import _pipeline
    from siaga.local import free_port

    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    state = SimpleNamespace(settings=Settings(kafka_bootstrap_servers=closed,
                                              redis_url="redis://127.0.0.1:1/0"))
    request: Any = SimpleNamespace(app=SimpleNamespace(state=state))
    text = generate_latest(await _pipeline(request)).decode()
    assert "siaga_pipeline_view_up 0.0" in text
    assert getattr(state, "pipeline_registry", None) is None  # tried again next scrape


def test_a_json_logging_worker_writes_json_lines_only() -> None:
    """faust sets up the worker's logging from this config: one handler, JSON."""
    import io
    import logging.config

    from mode.utils import logging as mode_logging

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        mode_logging.setup_logging(loglevel="info", loghandlers=[],
                                   logging_config=tracing.json_logging_config("info"))
        assert [type(h.formatter) for h in root.handlers] == [tracing.JsonFormatter]
        stream = io.StringIO()
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("streams.plumbing").info("folded x", extra={"event_id": "e-9"})
        line = json.loads(stream.getvalue().strip())
        assert line["event_id"] == "e-9" and line["time"].endswith("Z")
    finally:
        root.handlers[:], root.level = saved[0], saved[1]


def test_a_mistyped_trusted_network_is_refused_at_start_naming_the_setting() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        Settings(metrics_allowed_networks="10.0.0.0/8,10.0.0.300/8")
    assert "metrics_allowed_networks" in str(refused.value)
    assert "10.0.0.300/8" in str(refused.value)
    assert Settings(metrics_allowed_networks="any").metrics_allowed_networks == "any"


def test_the_duty_screen_shows_redis_and_says_the_broker_cannot_be_reached() -> None:
    screen = {
        "picture": {"stale": False, "age_seconds": 2.0, "stale_after_seconds": 30.0,
                    "workers": 1, "lag": 0, "newest_change_age_seconds": 3.0,
                    "panels": {"incident": {"age_seconds": 3.0}}},
        "kafka": {"error": "KafkaConnectionError: Unable to bootstrap from [('127.0.0.1', 1)]",
                  "bootstrap": "127.0.0.1:1"},
        "plans": {"32": "2026-12-01T10:00:00+00:00"},
    }
    text = render(screen)
    assert "picture: current — caught up 2 s ago" in text
    assert "Kafka: the broker cannot be reached at 127.0.0.1:1 (KafkaConnectionError" in text
    assert "incident" in text and "32  2026-12-01T10:00:00+00:00" in text
    from siaga.status import reachable

    assert not reachable(screen)
    redis_down = dict(screen, picture={"error": "ConnectionError: refused", "stale": True,
                                       "stale_after_seconds": 30.0},
                      plans={"error": "ConnectionError: refused"},
                      kafka={"group": "g", "total_lag": 0, "lag": [], "deadletters": []})
    text = render(redis_down)
    assert "picture: UNKNOWN — Redis cannot be reached (ConnectionError: refused)" in text
    assert "consumer group g: total lag 0" in text and "dead letters: 0" in text


async def test_two_scrapes_at_once_start_one_pipeline_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second scrape arriving while the first is still connecting waits for its view
    instead of starting another one that nobody would ever stop."""
    import asyncio
    from types import SimpleNamespace

    from api.metrics import _pipeline, stop_pipeline
    from siaga import pipeline

    made: list[Any] = []

    class SlowToConnect(pipeline.PipelineView):
        def __init__(self, settings: Settings) -> None:
            super().__init__(settings)
            self.stopped = False
            made.append(self)

        async def start(self) -> None:
            await asyncio.sleep(0.2)  # connecting to the broker

        async def stop(self) -> None:
            self.stopped = True

        async def refresh(self, read_budget: float = 3.0) -> dict[str, Any]:
            self.last = {"group": "g", "lag": [], "total_lag": 0, "deadletters": [],
                         "deadletters_total": 0, "read_at": 0.0}
            return self.last

    monkeypatch.setattr(pipeline, "PipelineView", SlowToConnect)
    state = SimpleNamespace(settings=Settings())
    app = SimpleNamespace(state=state)
    request: Any = SimpleNamespace(app=app)
    first, second = await asyncio.gather(_pipeline(request), _pipeline(request))
    assert len(made) == 1 and first is second
    await stop_pipeline(app)
    assert made[0].stopped


def test_a_partition_taken_away_in_a_rebalance_loses_its_lag_series() -> None:
    from prometheus_client import REGISTRY

    from siaga.metrics import set_lag

    def lag(partition: int) -> float | None:
        return REGISTRY.get_sample_value(
            "siaga_consumer_lag", {"topic": "obs-units", "partition": str(partition)})

    topic = "u1.obs-units"
    set_lag("u1", {(topic, 0): 5, (topic, 1): 7, (topic, 2): 9})
    assert (lag(0), lag(1), lag(2)) == (5, 7, 9)
    # partition 1 revoked; partition 2 still held but its position unknown just now
    set_lag("u1", {(topic, 0): 3}, {(topic, 0), (topic, 2)})
    assert (lag(0), lag(1), lag(2)) == (3, None, 9)
    set_lag("u1", {}, set())
    assert (lag(0), lag(1), lag(2)) == (None, None, None)
    set_lag("u1", {(topic, 1): 0})  # given back later: a series again
    assert lag(1) == 0


def test_a_worker_that_keeps_up_under_steady_load_is_a_report_behind_not_stale() -> None:
    """Lag (records) is never 0 at a report under a steady flow; the worker is still only
    one report interval behind in time."""
    from siaga.workers import CatchUp

    catch_up = CatchUp()
    behind = []
    for k in range(50):
        end = 100 * k
        behind.append(catch_up.observe(2.0 * k, {("t.shelters", 0): (end - 50, end)}))
    assert behind[0] is None  # never current yet
    assert set(behind[1:]) == {2.0}


def test_a_stuck_partition_holds_the_worker_back_and_a_non_working_worker_falls_behind(
) -> None:
    from siaga.workers import CatchUp

    catch_up = CatchUp()
    # both caught up at t=0
    assert catch_up.observe(0.0, {"a": (10, 10), "b": (10, 10)}) == 0.0
    # b stops moving while records keep arriving on both
    assert catch_up.observe(2.0, {"a": (20, 20), "b": (10, 20)}) == 2.0
    assert catch_up.observe(10.0, {"a": (30, 30), "b": (10, 30)}) == 10.0
    # b catches up with what was there at t=2 (end 20), not yet with t=10's
    assert catch_up.observe(12.0, {"a": (40, 40), "b": (25, 40)}) == 10.0
    assert catch_up.observe(14.0, {"a": (40, 40), "b": (40, 40)}) == 0.0
    # not working (failing batches: its read position says nothing): time stands still
    assert catch_up.observe(20.0, {"a": (50, 50), "b": (50, 50)}, working=False) == 6.0
    # b taken away, c given: c must catch up with what it had at assignment first
    assert catch_up.observe(22.0, {"a": (50, 50), "c": (3, 90)}) == 8.0
    assert catch_up.observe(24.0, {"a": (50, 50), "c": (90, 95)}) == 2.0


def test_a_parked_record_is_logged_with_its_event_id_and_trace(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import asyncio
    from types import SimpleNamespace

    from streams.deadletter import park

    sent: list[Any] = []

    async def send(topic: str, key: bytes | None, value: bytes) -> Any:
        sent.append((topic, key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    ctx = SimpleNamespace(send=send, settings=SimpleNamespace(topic_prefix="t"))
    traceparent = tracing.child()
    event = SimpleNamespace(
        key=b"32", value=json.dumps({"event_id": "e-77", "type": "x"}).encode(),
        headers={"traceparent": traceparent.encode()},
        message=SimpleNamespace(topic="t.incidents", partition=2, offset=41))
    with caplog.at_level(logging.WARNING, logger="streams.deadletter"):
        asyncio.run(park(ctx, event, "occurred_at: 5 d ahead"))
    assert len(sent) == 1
    (record,) = [r for r in caplog.records if r.name == "streams.deadletter"]
    line = json.loads(tracing.JsonFormatter().format(record))
    assert line["event_id"] == "e-77"
    assert line["traceparent"] == traceparent
    assert line["trace_id"] == tracing.trace_id(traceparent)
    assert (line["topic"], line["partition"], line["offset"]) == ("t.incidents", 2, 41)
    assert line["reason"] == "occurred_at: 5 d ahead"
    assert "e-77" in line["message"] and str(tracing.trace_id(traceparent)) in line["message"]


async def test_a_replay_is_marked_only_once_the_broker_acknowledged_it() -> None:
    from siaga import deadletters as dl
    from streams.deadletter import deadletter_record

    class Redis:  # the few hash commands replay uses
        def __init__(self) -> None:
            self.hashes: dict[str, dict[str, str]] = {}

        async def hexists(self, key: str, field: str) -> bool:
            return field in self.hashes.get(key, {})

        async def hset(self, key: str, field: str, value: str) -> int:
            self.hashes.setdefault(key, {})[field] = value
            return 1

        async def hsetnx(self, key: str, field: str, value: str) -> bool:
            if field in self.hashes.get(key, {}):
                return False
            await self.hset(key, field, value)
            return True

        async def hdel(self, key: str, *fields: str) -> int:
            return sum(self.hashes.get(key, {}).pop(f, None) is not None for f in fields)

    class Crash(BaseException):
        """The process dies (SIGKILL, power) while the broker has not acknowledged."""

    redis = Redis()

    class Producer:
        def __init__(self, crash: bool) -> None:
            self.crash = crash
            self.sent: list[Any] = []

        async def send_and_wait(self, topic: str, value: bytes, key: bytes | None,
                                headers: Any) -> None:
            # not yet marked while the send is in flight
            assert not await redis.hexists(dl.REPLAYED_KEY, "e-5")
            if self.crash:
                raise Crash
            self.sent.append((topic, value, key))

    raw = deadletter_record("occurred_at: ahead", "t.incidents", 0, 3, b"32",
                            json.dumps({"event_id": "e-5", "type": "x"}).encode())
    parked = [dl._parse(0, 9, raw, "t")]
    settings = Settings(topic_prefix="t")
    with pytest.raises(Crash):
        await dl.replay_parked(settings, redis, Producer(crash=True), parked)
    assert not await redis.hexists(dl.REPLAYED_KEY, "e-5")  # may be replayed again

    producer = Producer(crash=False)
    (outcome,) = await dl.replay_parked(settings, redis, producer, parked)
    assert outcome["replayed"] is True and len(producer.sent) == 1
    assert await redis.hexists(dl.REPLAYED_KEY, "e-5")
    (again,) = await dl.replay_parked(settings, redis, producer, parked)
    assert again["why"] == "already replayed" and len(producer.sent) == 1
