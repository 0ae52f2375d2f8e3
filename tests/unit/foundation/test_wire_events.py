"""The wire schemas refuse what a producer must not send, with reasons naming the field."""

from __future__ import annotations

import json
import uuid

import pytest

from siaga.catalogue import EXAMPLES
from siaga.events import (
    IncidentReported,
    InvalidRecord,
    ShelterHeadcountReported,
    ShipmentStatusChanged,
    decode_event,
    encode_event,
)
from siaga.outputs import OutputEvent


def _incident_payload(**changes: object) -> dict[str, object]:
    payload = EXAMPLES[IncidentReported].model_dump(mode="json")
    payload["event_id"] = str(uuid.uuid4())
    payload.update(changes)
    return payload


INPUT_EXAMPLES = [m for m in EXAMPLES if not issubclass(m, OutputEvent)]
OUTPUT_EXAMPLES = [m for m in EXAMPLES if issubclass(m, OutputEvent)]


@pytest.mark.parametrize("model", INPUT_EXAMPLES)
def test_every_example_round_trips_through_the_wire(model: type) -> None:
    event = EXAMPLES[model]
    assert decode_event(encode_event(event)) == event


@pytest.mark.parametrize("model", OUTPUT_EXAMPLES)
def test_output_events_are_not_taken_as_input(model: type) -> None:
    """The planners' outputs round-trip through their own model, and an input topic's
    decoder refuses them (a planner's output produced to an input topic is parked)."""
    event = EXAMPLES[model]
    assert model.model_validate_json(encode_event(event)) == event
    with pytest.raises(InvalidRecord):
        decode_event(encode_event(event))


def test_non_json_bytes_are_refused_as_not_json() -> None:
    with pytest.raises(InvalidRecord, match="not valid JSON"):
        decode_event(b"\xff\xfe definitely not json")


def test_json_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidRecord, match="JSON object"):
        decode_event(b"[1, 2, 3]")


def test_unknown_schema_version_is_refused_naming_the_version() -> None:
    raw = json.dumps(_incident_payload(schema_version=7)).encode()
    with pytest.raises(InvalidRecord, match="schema_version: unknown version 7"):
        decode_event(raw)


def test_missing_required_field_is_named() -> None:
    payload = _incident_payload()
    del payload["severity"]
    with pytest.raises(InvalidRecord, match="severity: Field required"):
        decode_event(json.dumps(payload).encode())


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(InvalidRecord, match="unknown event type"):
        decode_event(json.dumps(_incident_payload(type="incident.guessed")).encode())


def test_event_of_another_topic_is_refused_when_topic_is_restricted() -> None:
    raw = encode_event(EXAMPLES[ShelterHeadcountReported])
    with pytest.raises(InvalidRecord, match="does not belong on this topic"):
        decode_event(raw, allowed=("incident.reported",))


def test_time_without_timezone_is_refused() -> None:
    raw = json.dumps(_incident_payload(occurred_at="2022-11-21T13:21:10")).encode()
    with pytest.raises(InvalidRecord, match="occurred_at: .*timezone"):
        decode_event(raw)


def test_time_with_offset_is_stored_as_utc() -> None:
    raw = json.dumps(_incident_payload(occurred_at="2022-11-21T13:21:10+07:00")).encode()
    event = decode_event(raw)
    assert event.occurred_at.isoformat() == "2022-11-21T06:21:10+00:00"


def test_latitude_out_of_range_is_refused() -> None:
    raw = json.dumps(_incident_payload(location={"lat": 96.0, "lon": 107.0})).encode()
    with pytest.raises(InvalidRecord, match="location.lat"):
        decode_event(raw)


def test_province_code_must_be_two_digits() -> None:
    raw = json.dumps(_incident_payload(province_code="JB")).encode()
    with pytest.raises(InvalidRecord, match="province_code"):
        decode_event(raw)


def test_vulnerable_group_larger_than_headcount_is_refused() -> None:
    payload = EXAMPLES[ShelterHeadcountReported].model_dump(mode="json")
    payload["elderly"] = payload["total"] + 1
    with pytest.raises(InvalidRecord, match="elderly .* exceeds total"):
        decode_event(json.dumps(payload).encode())


def test_confirmed_shipment_must_name_picked_batches() -> None:
    payload = EXAMPLES[ShipmentStatusChanged].model_dump(mode="json")
    payload["batches"] = []
    with pytest.raises(InvalidRecord, match="batches"):
        decode_event(json.dumps(payload).encode())


def test_cancelled_shipment_needs_a_reason() -> None:
    payload = EXAMPLES[ShipmentStatusChanged].model_dump(mode="json")
    payload.update(status="cancelled", batches=[])
    with pytest.raises(InvalidRecord, match="reason"):
        decode_event(json.dumps(payload).encode())


def test_unexpected_field_is_refused() -> None:
    raw = json.dumps(_incident_payload(colour="red")).encode()
    with pytest.raises(InvalidRecord, match="colour"):
        decode_event(raw)
