"""A shelter or incident belongs to the posko that registered it, in the worker's reducers.

The API refuses another posko's write with 403, but its read-model check fails open while a
new entity is still on its way; the reducers are the authority: such an event raises
InvalidRecord("posko_id: …") and is parked on the dead-letter topic. A coordinator's
transfer (source "transfer:…") is the one way an owner changes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from siaga import events as ev
from siaga.events import InvalidRecord
from streams.incidents import apply_incident, merge_incident
from streams.ingest import apply_headcount, apply_shelter_registered

T0 = datetime(2022, 11, 21, 7, 0, tzinfo=UTC)
CUGENANG = {"lat": -6.80, "lon": 107.06}


def _envelope(posko: str, minutes: int, source: str | None = None) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "occurred_at": T0 + timedelta(minutes=minutes),
        "source": source or f"posko:{posko}",
        "schema_version": 1,
    }


def shelter(posko: str, minutes: int = 0, source: str | None = None, **changes: Any) -> Any:
    fields: dict[str, Any] = dict(
        shelter_id="sh-cugenang", name="Lapangan Cibulakan", location=CUGENANG,
        province_code="32", posko_id=posko,
    )
    fields.update(changes)
    return ev.ShelterRegistered(**_envelope(posko, minutes, source), **fields)


def headcount(posko: str, minutes: int = 0, total: int = 100) -> Any:
    return ev.ShelterHeadcountReported(
        **_envelope(posko, minutes), shelter_id="sh-cugenang", province_code="32",
        total=total, posko_id=posko,
    )


def incident(posko: str, minutes: int = 0, source: str | None = None, severity: int = 4) -> Any:
    return ev.IncidentReported(
        **_envelope(posko, minutes, source), incident_id="inc-cianjur",
        incident_type="earthquake", location={"lat": -6.84, "lon": 107.05},
        province_code="32", severity=severity, posko_id=posko,
    )


def test_another_poskos_registration_of_an_owned_shelter_is_refused() -> None:
    state: dict[str, Any] = {}
    assert apply_shelter_registered(state, shelter("posko-a"))["posko_id"] == "posko-a"
    with pytest.raises(InvalidRecord) as info:
        apply_shelter_registered(state, shelter("posko-b", minutes=5, name="taken over"))
    assert info.value.reason.startswith("posko_id:")
    assert state["sh-cugenang"]["posko_id"] == "posko-a"
    assert state["sh-cugenang"]["name"] == "Lapangan Cibulakan"
    # its own posko still corrects it
    assert apply_shelter_registered(state, shelter("posko-a", minutes=6, name="Lapangan Desa"))


def test_a_coordinators_transfer_changes_the_shelters_owner() -> None:
    state: dict[str, Any] = {}
    apply_shelter_registered(state, shelter("posko-a"))
    moved = apply_shelter_registered(
        state, shelter("posko-b", minutes=5, source="transfer:coordinator:Pusdalops Jabar")
    )
    assert moved is not None and moved["posko_id"] == "posko-b"
    with pytest.raises(InvalidRecord):  # now the old owner is the outsider
        apply_shelter_registered(state, shelter("posko-a", minutes=9))
    assert apply_headcount(state, headcount("posko-b", minutes=10))


def test_another_poskos_headcount_is_refused_and_the_count_kept() -> None:
    state: dict[str, Any] = {}
    apply_shelter_registered(state, shelter("posko-a"))
    apply_headcount(state, headcount("posko-a", minutes=1, total=1240))
    with pytest.raises(InvalidRecord) as info:
        apply_headcount(state, headcount("posko-b", minutes=2, total=5))
    assert info.value.reason.startswith("posko_id:")
    assert state["sh-cugenang"]["headcount"]["total"] == 1240


def test_a_headcount_before_the_registration_makes_its_posko_the_owner() -> None:
    state: dict[str, Any] = {}
    apply_headcount(state, headcount("posko-a", minutes=1))
    with pytest.raises(InvalidRecord):
        apply_shelter_registered(state, shelter("posko-b", minutes=2))
    assert apply_shelter_registered(state, shelter("posko-a", minutes=3))


def test_a_redelivered_event_of_the_owner_is_still_a_harmless_duplicate() -> None:
    state: dict[str, Any] = {}
    first = shelter("posko-a")
    apply_shelter_registered(state, first)
    assert apply_shelter_registered(state, first) is None
    apply_shelter_registered(state, shelter("posko-b", minutes=5, source="transfer:admin:x"))
    assert apply_shelter_registered(state, first) is None  # old, changes nothing: no park


def test_another_poskos_incident_update_is_refused() -> None:
    state: dict[str, Any] = {}
    assert apply_incident(state, incident("posko-a"))["posko_id"] == "posko-a"
    with pytest.raises(InvalidRecord) as info:
        apply_incident(state, incident("posko-b", minutes=5, severity=1))
    assert info.value.reason.startswith("posko_id:")
    assert state["inc-cianjur"]["severity"] == 4
    with pytest.raises(InvalidRecord):  # older, but would move first_reported_at
        merge_incident(state["inc-cianjur"], incident("posko-b", minutes=-30))
    assert apply_incident(state, incident("posko-a", minutes=6, severity=5))["severity"] == 5


def test_an_incident_transfer_is_accepted_and_changes_the_owner() -> None:
    state: dict[str, Any] = {}
    apply_incident(state, incident("posko-a"))
    moved = apply_incident(
        state, incident("posko-b", minutes=5, source="transfer:coordinator:Pusdalops")
    )
    assert moved is not None and moved["posko_id"] == "posko-b"
    with pytest.raises(InvalidRecord):
        apply_incident(state, incident("posko-a", minutes=7))
