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
