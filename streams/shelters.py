"""Topic ``siaga.shelters``: shelter registrations and headcounts → one row per shelter."""

from __future__ import annotations

from typing import Any

from siaga.events import ShelterHeadcountReported, ShelterRegistered
from streams.ingest import apply_headcount, apply_shelter_registered
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
        },
    )
