"""Topic ``siaga.incidents``: incident reports → the incidents table → state changes."""

from __future__ import annotations

from typing import Any

from siaga.catalogue import STATE_CHANGES
from siaga.events import IncidentReported, InvalidRecord, decode_event
from streams.changes import encode_change, make_change, version_of
from streams.deadletter import park


def merge_incident(
    current: dict[str, Any] | None, report: IncidentReported
) -> dict[str, Any] | None:
    """The incident after this report, or None when the report changes nothing.

    Reports are snapshots: the newest (by event time, then event id) wins, so the
    same report twice, or reports replayed in any order, give the same incident.
    """
    version = version_of(report.occurred_at, str(report.event_id))
    if current is not None and current["version"] >= version:
        return None
    data = report.model_dump(mode="json", exclude={"type", "schema_version"})
    data["reported_at"] = data.pop("occurred_at")
    data["last_event_id"] = data.pop("event_id")
    data["first_reported_at"] = (
        current["first_reported_at"] if current is not None else data["reported_at"]
    )
    data["version"] = version
    return data


def register(ctx: Any) -> None:
    app = ctx.app
    # Keyed by province code, like the topic, so a province's incidents live on one partition.
    table = app.Table("incidents", default=dict, partitions=ctx.settings.partitions)
    source = ctx.raw_topic("incidents")
    changes = ctx.raw_topic(STATE_CHANGES)

    @app.agent(source, name="incidents")
    async def incidents(stream: Any) -> None:
        async for event in stream.events():
            try:
                report = decode_event(event.value, allowed=("incident.reported",))
                assert isinstance(report, IncidentReported)
                if event.key != report.province_code.encode():
                    raise InvalidRecord(
                        f"key: record key {event.key!r} must equal province_code "
                        f"{report.province_code!r}"
                    )
            except InvalidRecord as exc:
                await park(ctx, event, exc.reason)
                continue
            province = table[report.province_code]
            updated = merge_incident(province.get(report.incident_id), report)
            if updated is None:
                continue  # a duplicate or an older report: nothing changes
            province[report.incident_id] = updated
            table[report.province_code] = province
            await changes.send(
                key=report.province_code.encode(),
                value=encode_change(
                    make_change(
                        "incident",
                        report.incident_id,
                        report.province_code,
                        updated["version"],
                        updated,
                        score=report.occurred_at.timestamp(),
                    )
                ),
            )
