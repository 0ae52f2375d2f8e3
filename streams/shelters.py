"""Topic ``siaga.shelters``: shelter registrations, headcounts and coordinators' decisions on
their shortfalls → one row per shelter."""

from __future__ import annotations

from typing import Any

from siaga.events import ShelterHeadcountReported, ShelterRegistered, ShortfallDecisionRecorded
from streams.ingest import apply_headcount, apply_shelter_registered, apply_shortfall_decision
from streams.plumbing import Route, register_ingest


def _shelter_id(event: Any) -> str:
    return str(event.shelter_id)


def register(ctx: Any) -> None:
    register_ingest(
        ctx,
        "shelters",
        {
            ShelterRegistered.model_fields["type"].default: Route(
                "shelters", _shelter_id, apply_shelter_registered),
            ShelterHeadcountReported.model_fields["type"].default: Route(
                "shelters", _shelter_id, apply_headcount),
            ShortfallDecisionRecorded.model_fields["type"].default: Route(
                "shelters", _shelter_id, apply_shortfall_decision),
        },
    )
