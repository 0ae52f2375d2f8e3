"""Topic ``siaga.shelters``: shelter registrations and headcounts → the shelters table."""

from __future__ import annotations

from typing import Any

from siaga.events import ShelterHeadcountReported, ShelterRegistered
from streams.ingest import apply_headcount, apply_shelter_registered
from streams.plumbing import register_ingest


def register(ctx: Any) -> None:
    register_ingest(
        ctx,
        "shelters",
        {
            ShelterRegistered.model_fields["type"].default: ("shelters", apply_shelter_registered),
            ShelterHeadcountReported.model_fields["type"].default: ("shelters", apply_headcount),
        },
    )
