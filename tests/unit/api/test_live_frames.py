"""Live feed frames carry the stream id so EventSource resumes where it stopped."""

from __future__ import annotations

import json

import pytest

from api.live import format_id, frame, parse_id


def test_stream_ids_order_numerically_not_as_text() -> None:
    assert parse_id("1700000000000-10") > parse_id("1700000000000-9")
    assert format_id(parse_id("5-3")) == "5-3"
    with pytest.raises(ValueError):
        parse_id("abc")


def test_frame_is_one_sse_message_with_id_and_json_data() -> None:
    text = frame(
        "1700000000000-1",
        {b"entity": b"incident", b"id": b"inc-1", b"province": b"32",
         b"json": b'{"severity":4}', b"deleted": b"0"},
    )
    lines = text.split("\n")
    assert lines[0] == "id: 1700000000000-1"
    assert lines[1] == "event: change"
    payload = json.loads(lines[2].removeprefix("data: "))
    assert payload == {
        "entity": "incident", "id": "inc-1", "province_code": "32",
        "seq": "1700000000000-1", "deleted": False, "data": {"severity": 4},
    }
    assert text.endswith("\n\n")
