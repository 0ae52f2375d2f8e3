"""CAP 1.2 parsing with real-format BMKG InaTEWS alerts, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.cap import CapError, parse_cap, severity_for

FIXTURES = Path(__file__).resolve().parents[2] / "e2e" / "cap"


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_bmkg_cianjur_alert_gives_event_magnitude_depth_place_and_time() -> None:
    alert = parse_cap(_fixture("bmkg-cianjur-2022-11-21.xml"))
    assert alert.event == "Gempabumi"
    assert alert.incident_type == "earthquake"
    assert alert.magnitude == 5.6
    assert alert.depth_km == 10
    assert (alert.lat, alert.lon) == (-6.84, 107.05)
    assert alert.onset == datetime(2022, 11, 21, 6, 21, 10, tzinfo=UTC)
    assert alert.area_desc == "10 km BaratDaya KAB-CIANJUR-JABAR"
    assert alert.severity == 4  # M5.6, shallow: one step above "Moderate"
    assert alert.posko_id == "bmkg-inatews"


def test_kml_point_coordinates_are_read_lon_first() -> None:
    alert = parse_cap(_fixture("bmkg-palu-2018-09-28.xml"))
    assert (alert.lat, alert.lon) == (-0.18, 119.85)
    assert alert.magnitude == 7.4
    assert alert.severity == 5


def test_same_alert_gives_the_same_event_id_and_an_update_keeps_the_incident() -> None:
    first = parse_cap(_fixture("bmkg-cianjur-2022-11-21.xml"))
    again = parse_cap(_fixture("bmkg-cianjur-2022-11-21.xml"))
    update = parse_cap(_fixture("bmkg-cianjur-2022-11-21-update.xml"))
    assert first.event_id == again.event_id
    assert update.event_id != first.event_id
    assert update.incident_id == first.incident_id
    assert update.occurred_at > first.occurred_at


@pytest.mark.parametrize(
    ("magnitude", "depth", "cap_severity", "expected"),
    [
        (3.2, 10, "Minor", 2),
        (4.5, 120, None, 2),
        (5.6, 10, "Moderate", 4),
        (5.6, 90, "Moderate", 3),
        (6.2, 50, None, 4),
        (7.4, 10, "Severe", 5),
        (None, None, "Extreme", 5),
        (None, None, None, 2),
    ],
)
def test_severity_takes_the_larger_of_cap_severity_and_magnitude(
    magnitude: float | None, depth: float | None, cap_severity: str | None, expected: int
) -> None:
    assert severity_for(magnitude, depth, cap_severity) == expected


def _field_of(document: bytes) -> str:
    with pytest.raises(CapError) as info:
        parse_cap(document)
    return info.value.field


def test_entity_expansion_bomb_is_refused_before_parsing() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol2;</identifier></alert>"""
    assert _field_of(bomb) == "document"


def test_external_entity_is_refused() -> None:
    xxe = b"""<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>"""
    assert _field_of(xxe) == "document"


def test_not_xml_and_not_cap_are_named() -> None:
    assert _field_of(b"{\"identifier\": 1}") == "document"
    assert _field_of(b"") == "document"
    rss = b"<rss version='2.0'><channel><title>Gempa</title></channel></rss>"
    assert _field_of(rss) == "alert"
    cap11 = _fixture("bmkg-cianjur-2022-11-21.xml").replace(b"cap:1.2", b"cap:1.1")
    assert _field_of(cap11) == "alert"


def test_missing_pieces_are_named() -> None:
    original = _fixture("bmkg-cianjur-2022-11-21.xml")
    no_area = original.replace(b"<circle>-6.84,107.05 0</circle>", b"")
    assert _field_of(no_area) == "info.area"
    no_sender = original.replace(b"<sender>info_inatews@bmkg.go.id</sender>", b"")
    assert _field_of(no_sender) == "alert.sender"
    exercise = original.replace(b"<status>Actual</status>", b"<status>Exercise</status>")
    assert _field_of(exercise) == "alert.status"
    bad_time = original.replace(b"2022-11-21T13:21:31+07:00", b"kemarin")
    assert _field_of(bad_time) == "alert.sent"
    bad_circle = original.replace(b"-6.84,107.05 0", b"Cianjur")
    assert _field_of(bad_circle) == "info.area.circle"
