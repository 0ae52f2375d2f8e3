"""Topic ``siaga.teams``: TAGANA team status (one row per team) and coordinators' dispatch
overrides (one row per task and team)."""

from __future__ import annotations

from typing import Any

from siaga.events import DispatchOverridden, TeamStatusReported
from streams.ingest import apply_dispatch_override, apply_team_status
from streams.plumbing import Route, register_ingest


def register(ctx: Any) -> None:
    register_ingest(
        ctx,
        "teams",
        {
            TeamStatusReported.model_fields["type"].default: Route(
                "teams", lambda e: str(e.team_id), apply_team_status),
            DispatchOverridden.model_fields["type"].default: Route(
                "overrides", lambda e: f"{e.task_id}|{e.team_id}", apply_dispatch_override),
        },
    )
