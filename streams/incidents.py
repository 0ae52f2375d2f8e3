"""Topic ``siaga.incidents``: incident reports and emergency declarations."""

from __future__ import annotations

from typing import Any

from siaga.events import EmergencyDeclared, IncidentReported
from streams.changes import make_change, version_of
from streams.ingest import apply_emergency_declared, check_location
from streams.plumbing import Route, register_ingest, send_change


def merge_incident(
    current: dict[str, Any] | None, report: IncidentReported
) -> dict[str, Any] | None:
    """The incident after this report, or None when the report changes nothing.

    Reports are snapshots: the newest (by event time, then event id) wins, so the
    same report twice, or reports replayed in any order, give the same incident.
    An incident belongs to the posko that reported it first: a report that would change
    it from another posko raises :class:`InvalidRecord` (``posko_id``) unless it is a
    coordinator's transfer; one that changes nothing (a duplicate) is still ignored.
    """
    from siaga.events import InvalidRecord

    version = version_of(report.occurred_at, str(report.event_id))
    reported_at = report.occurred_at.isoformat()
    owner = current.get("posko_id") if current is not None else None
    if owner and owner != report.posko_id and not report.source.startswith("transfer:"):
        if current is not None and current["version"] >= version and (
            reported_at >= current["first_reported_at"]
        ):
            return None  # changes nothing (e.g. the old owner's report redelivered)
        # transfers are written only by the API's coordinator route, with source "transfer:…"
        raise InvalidRecord(
            f"posko_id: incident {report.incident_id} belongs to posko {owner}, not "
            f"{report.posko_id} (a coordinator can transfer it)"
        )
    if current is not None and current["version"] >= version:
        # An older report arriving late can only move the first-report time earlier.
        if reported_at < current["first_reported_at"]:
            return {**current, "first_reported_at": reported_at}
        return None
    data = report.model_dump(mode="json", exclude={"type", "schema_version"})
    data.pop("occurred_at")
    data["reported_at"] = reported_at
    data["last_event_id"] = data.pop("event_id")
    data["first_reported_at"] = (
        min(current["first_reported_at"], data["reported_at"])
        if current is not None
        else data["reported_at"]
    )
    data["version"] = version
    return data


def apply_incident(state: dict[str, Any], report: IncidentReported) -> dict[str, Any] | None:
    check_location(report)
    updated = merge_incident(state.get(report.incident_id), report)
    if updated is not None:
        state[report.incident_id] = updated
    return updated


def register(ctx: Any) -> None:
    async def project(report: IncidentReported, incident: dict[str, Any]) -> Any:
        return await send_change(
            ctx,
            make_change(
                "incident",
                report.incident_id,
                report.province_code,
                incident["version"],
                {k: v for k, v in incident.items() if k != "accepted_at"},
                score=report.occurred_at.timestamp(),
            ),
        )

    register_ingest(
        ctx,
        "incidents",
        {
            IncidentReported.model_fields["type"].default: Route(
                "incidents", lambda e: str(e.incident_id), apply_incident, after_apply=project),
            EmergencyDeclared.model_fields["type"].default: Route(
                "declarations", lambda e: str(e.declaration_id), apply_emergency_declared),
        },
    )
