"""`siaga run` says in words what it is still waiting for before it says it is running."""

from __future__ import annotations

from siaga.runner import waiting_for


def test_no_answer_means_waiting_for_the_api() -> None:
    assert waiting_for(None) == "the API to answer"


def test_names_every_part_that_is_not_ready() -> None:
    body = {
        "broker": {"connected": False},
        "redis": {"connected": True},
        "worker": {"ready": False, "waiting_for": "no stream worker has reported yet"},
    }
    assert waiting_for(body) == (
        "the broker; the stream worker: no stream worker has reported yet"
    )


def test_a_worker_catching_up_is_described_by_the_api() -> None:
    body = {
        "broker": {"connected": True},
        "redis": {"connected": True},
        "worker": {"ready": False, "waiting_for": "vm:1 not ready (partitions=4, lag=12)"},
    }
    assert waiting_for(body) == "the stream worker: vm:1 not ready (partitions=4, lag=12)"
