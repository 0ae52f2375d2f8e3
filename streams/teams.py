"""Topic ``siaga.teams``: TAGANA team status and coordinators' dispatch overrides."""

from __future__ import annotations

from typing import Any

from siaga.events import DispatchOverridden, TeamStatusReported
from streams.ingest import apply_dispatch_override, apply_team_status
from streams.plumbing import register_ingest


def register(ctx: Any) -> None:
    register_ingest(
        ctx,
        "teams",
        {
            TeamStatusReported.model_fields["type"].default: ("teams", apply_team_status),
            DispatchOverridden.model_fields["type"].default: ("overrides", apply_dispatch_override),
        },
    )
