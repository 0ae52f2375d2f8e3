"""Topics: names, keys, the events each carries; and the generated docs/schemas.

``python -m siaga.catalogue`` rewrites ``docs/events.md`` and ``docs/schemas/*.json``
from the code; a test fails when the committed files differ from what the code
generates, so docs, schema files and code cannot drift apart.
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import cast

from siaga import events as ev
from siaga import outputs as _out


@dataclass(frozen=True)
class TopicSpec:
    name: str  # short name; the full topic is "<prefix>.<name>" (prefix "siaga" by default)
    key: str
    description: str
    event_types: tuple[type[ev.Envelope], ...]
    kind: str = "input"  # input | output | internal


PROVINCE_KEY = "province code, 2 digits (Kemendagri), e.g. `32` — UTF-8 bytes"

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        "incidents",
        PROVINCE_KEY,
        "Incidents reported by command posts and official alerts (BMKG CAP); emergency "
        "declarations that release Lumbung Sosial stock.",
        (ev.IncidentReported, ev.EmergencyDeclared),
    ),
    TopicSpec(
        "shelters",
        PROVINCE_KEY,
        "Shelter (pengungsian) sites and their headcounts, with vulnerable groups; "
        "coordinators' decisions on a shelter's shortfalls.",
        (ev.ShelterRegistered, ev.ShelterHeadcountReported, ev.ShortfallDecisionRecorded),
    ),
    TopicSpec(
        "warehouses",
        PROVINCE_KEY,
        "Warehouses and the stock of each item batch they hold: stock levels reported by a "
        "warehouse system, and the desk's goods received (donations too), stock counts and "
        "write-offs.",
        (ev.WarehouseRegistered, ev.StockLevelReported, ev.GoodsReceived, ev.StockCounted,
         ev.StockWrittenOff),
    ),
    TopicSpec(
        "teams",
        PROVINCE_KEY,
        "TAGANA teams: registrations, availability and position, their progress on "
        "assignments (the task loop); coordinators' dispatch overrides.",
        (ev.TeamStatusReported, ev.TeamRegistered, ev.TeamAvailabilityReported,
         ev.TaskProgressReported, ev.DispatchOverridden),
    ),
    TopicSpec(
        "shipments",
        PROVINCE_KEY,
        "Shipment lifecycle moves by warehouse staff and receiving posts; coordinators' holds, "
        "and their approvals (or declines) of what the national tier sends their province: "
        "its shipments and the teams it mobilises from other provinces.",
        (ev.ShipmentStatusChanged, ev.ShipmentHoldChanged, ev.EscalationDecisionRecorded),
    ),
    TopicSpec(
        "kitchens",
        PROVINCE_KEY,
        "Public kitchens (dapur umum): registrations by coordinators, status and portions "
        "served reported by the teams running them.",
        (ev.KitchenRegistered, ev.KitchenStatusReported),
    ),
)

DEADLETTER = "deadletter"
STATE_CHANGES = "state-changes"
# a shelter's report shown at once (the shelters agent's quick views), before the plan made
# from it: a lane of its own, so it never waits behind a re-plan's thousands of changes
QUICK_VIEWS = "quick-views"
REPLAN = "replan"
ESCALATIONS = "escalations"
NATIONAL_RESULTS = "national-results"
STOCK_MOVES = "stock-moves"  # a national shipment left another province's warehouse
# Output topics (keyed by province code): what the planners decided.
PLANS = "plans"  # shipment.proposed / proposal_changed / proposal_withdrawn
DISPATCH = "dispatch"  # team.dispatched / team.released
SHORTFALLS = "shortfalls"  # supply_shortfall.detected / resolved
OUTPUT_TOPICS = (PLANS, DISPATCH, SHORTFALLS)
INTERNAL_TOPICS = (
    DEADLETTER,
    STATE_CHANGES,
    QUICK_VIEWS,
    REPLAN,
    ESCALATIONS,
    NATIONAL_RESULTS,
    STOCK_MOVES,
    *OUTPUT_TOPICS,
)


# What the planners decide, for consumers outside Siaga (documented like the inputs).
OUTPUT_SPECS: tuple[TopicSpec, ...] = (
    TopicSpec(
        PLANS,
        PROVINCE_KEY,
        "Shipments the planners propose, change and withdraw (a warehouse system or the "
        "desk confirms them; a confirmed shipment then moves on `siaga.shipments`).",
        (_out.ShipmentProposed, _out.ShipmentProposalChanged, _out.ShipmentProposalWithdrawn),
        kind="output",
    ),
    TopicSpec(
        DISPATCH,
        PROVINCE_KEY,
        "TAGANA teams dispatched to tasks and released from them.",
        (_out.TeamDispatched, _out.TeamReleased),
        kind="output",
    ),
    TopicSpec(
        SHORTFALLS,
        PROVINCE_KEY,
        "Needs the reachable stock cannot cover: detected when they appear, resolved when "
        "covered (their size moves in the read models meanwhile).",
        (_out.SupplyShortfallDetected, _out.SupplyShortfallResolved),
        kind="output",
    ),
)


def topic_for_event_type(event_type: str) -> TopicSpec:
    for spec in TOPICS:
        if any(t.model_fields["type"].default == event_type for t in spec.event_types):
            return spec
    raise KeyError(event_type)


def event_type_name(model: type[ev.Envelope]) -> str:
    return str(model.model_fields["type"].default)


def json_schema(model: type[ev.Envelope]) -> dict[str, object]:
    schema = model.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://siaga.kemensos.go.id/schemas/{event_type_name(model)}.v1.json"
    # The discriminator is required on the wire even though the model defaults it.
    required = list(cast("list[str]", schema.get("required", [])))
    if "type" not in required:
        required.append("type")
    schema["required"] = required
    return schema


_EXAMPLE_ID = uuid.UUID("2f1c8a52-6d0e-4f7b-9a43-0c6b2f7d9e11")
_EXAMPLE_AT = datetime(2022, 11, 21, 6, 30, tzinfo=UTC)
_BASE = {"event_id": _EXAMPLE_ID, "occurred_at": _EXAMPLE_AT, "schema_version": 1}
CIANJUR = {"lat": -6.84, "lon": 107.05}

EXAMPLES: dict[type[ev.Envelope], ev.Envelope] = {
    ev.IncidentReported: ev.IncidentReported(
        **_BASE,
        source="posko:cianjur-kab",
        incident_id="cianjur-2022-eq",
        incident_type="earthquake",
        location=CIANJUR,
        province_code="32",
        kabupaten_code="32.03",
        severity=5,
        affected=58300,
        displaced=5389,
        injured=700,
        dead=162,
        observed_needs=[{"item": "drinking_water"}, {"item": "family_tent", "quantity": 200}],
        posko_id="posko-cianjur-kab",
        description="M5.6 earthquake, epicentre 6.84 S 107.05 E, depth 10 km",
    ),
    ev.ShelterRegistered: ev.ShelterRegistered(
        **_BASE,
        source="posko:cugenang",
        shelter_id="shelter-cugenang-01",
        name="Lapangan Desa Cibulakan",
        location={"lat": -6.80, "lon": 107.06},
        province_code="32",
        kabupaten_code="32.03",
        incident_id="cianjur-2022-eq",
        capacity=1500,
        posko_id="posko-cugenang",
    ),
    ev.ShelterHeadcountReported: ev.ShelterHeadcountReported(
        **_BASE,
        source="posko:cugenang",
        shelter_id="shelter-cugenang-01",
        province_code="32",
        total=1240,
        infants=48,
        children=310,
        elderly=122,
        pregnant_lactating=35,
        disabled=14,
        posko_id="posko-cugenang",
    ),
    ev.WarehouseRegistered: ev.WarehouseRegistered(
        **_BASE,
        source="kemensos:logistik",
        warehouse_id="wh-bekasi-regional",
        name="Gudang Regional Kemensos Bekasi",
        kind="regional",
        location={"lat": -6.2306, "lon": 107.0164},
        province_code="32",
        kabupaten_code="32.75",
    ),
    ev.StockLevelReported: ev.StockLevelReported(
        **_BASE,
        source="warehouse:wh-bekasi-regional",
        warehouse_id="wh-bekasi-regional",
        province_code="32",
        item="rice",
        batch_id="B-2022-10-rice-07",
        quantity=25000,
        unit="kg",
        expires_on=date(2023, 10, 1),
    ),
    ev.GoodsReceived: ev.GoodsReceived(
        **_BASE,
        source="warehouse:wh-bekasi-regional",
        warehouse_id="wh-bekasi-regional",
        province_code="32",
        item="drinking_water",
        batch_id="DON-2022-11-aqua-01",
        quantity=12000,
        unit="L",
        expires_on=date(2024, 5, 1),
        origin="donation",
        donor="PT Tirta Nusantara (illustrative)",
        document_number="BAST-0457/XI/2022",
        received_by="Rina Oktaviani",
    ),
    ev.StockCounted: ev.StockCounted(
        **_BASE,
        source="warehouse:wh-bekasi-regional",
        warehouse_id="wh-bekasi-regional",
        province_code="32",
        item="rice",
        batch_id="B-2022-10-rice-07",
        counted=24950,
        unit="kg",
        reason="six-monthly stock check (Kemensos expiry rule)",
        counted_by="Rina Oktaviani",
    ),
    ev.StockWrittenOff: ev.StockWrittenOff(
        **_BASE,
        source="warehouse:wh-bekasi-regional",
        warehouse_id="wh-bekasi-regional",
        province_code="32",
        item="rice",
        batch_id="B-2022-10-rice-07",
        quantity=50,
        unit="kg",
        reason_code="damaged",
        reason="sacks torn by a forklift, rice wet",
        written_off_by="Rina Oktaviani",
        document_number="BA-RUSAK-012/XI/2022",
    ),
    ev.TeamStatusReported: ev.TeamStatusReported(
        **_BASE,
        source="tagana:cianjur",
        team_id="tagana-3203-01",
        name="TAGANA Cianjur 1",
        province_code="32",
        kabupaten_code="32.03",
        location={"lat": -6.82, "lon": 107.14},
        skills=["evacuation", "public_kitchen"],
        members=12,
        rank="madya",
        availability="available",
        hours_on_duty=2.5,
    ),
    ev.TeamRegistered: ev.TeamRegistered(
        **_BASE,
        source="coordinator:jabar",
        team_id="tagana-3203-01",
        name="TAGANA Cianjur 1",
        province_code="32",
        kabupaten_code="32.03",
        base={"lat": -6.82, "lon": 107.14},
        members=[{"name": "Asep Sunandar", "role": "ketua", "phone": "+62 812 0000 0001"},
                 {"name": "Dedi Kurnia"}, {"name": "Siti Aminah"}],
        skills=["evacuation", "public_kitchen"],
        rank="madya",
        coordinator="coord-jabar-01",
    ),
    ev.TeamAvailabilityReported: ev.TeamAvailabilityReported(
        **_BASE,
        source="team:tagana-3203-01",
        team_id="tagana-3203-01",
        province_code="32",
        availability="available",
        location={"lat": -6.82, "lon": 107.14},
        members_present=3,
    ),
    ev.TaskProgressReported: ev.TaskProgressReported(
        **_BASE,
        source="team:tagana-3203-01",
        task_id="evacuation:cianjur-2022-eq",
        team_id="tagana-3203-01",
        province_code="32",
        status="arrived",
        location={"lat": -6.84, "lon": 107.05},
    ),
    ev.ShipmentStatusChanged: ev.ShipmentStatusChanged(
        **_BASE,
        source="warehouse:wh-bekasi-regional",
        shipment_id="shp-7f3a9c",
        province_code="32",
        warehouse_id="wh-bekasi-regional",
        status="confirmed",
        batches=[{"batch_id": "B-2022-10-rice-07", "quantity": 400}],
    ),
    ev.EmergencyDeclared: ev.EmergencyDeclared(
        **_BASE,
        source="bpbd:cianjur",
        declaration_id="sk-tanggap-darurat-cianjur-2022",
        province_code="32",
        kabupaten_code="32.03",
        declared_by="Bupati Cianjur",
        reference="(decree number; illustrative)",
    ),
    ev.ShortfallDecisionRecorded: ev.ShortfallDecisionRecorded(
        **_BASE,
        source="coordinator:Pusdalops Jawa Barat",
        shelter_id="sh-cugenang-01",
        province_code="32",
        item="family_tent",
        decision="donor_request",
        note="Permintaan 120 tenda keluarga ke BAZNAS dan PMI, surat 045/XI/2022",
        coordinator="Pusdalops Jawa Barat",
    ),
    ev.ShipmentHoldChanged: ev.ShipmentHoldChanged(
        **_BASE,
        source="coordinator:jabar",
        shipment_id="shp-7f3a9c",
        province_code="32",
        held=True,
        reason="road to Cugenang closed by landslide",
        coordinator="coord-jabar-01",
    ),
    ev.EscalationDecisionRecorded: ev.EscalationDecisionRecorded(
        **_BASE,
        source="coordinator:Pusdalops Jawa Barat",
        province_code="32",
        shipment_id="shp-9b41e07c5d2a",
        decision="approved",
        reason="Beras dari gudang regional Bekasi diterima; jalur Puncak terbuka",
        coordinator="Pusdalops Jawa Barat",
    ),
    ev.DispatchOverridden: ev.DispatchOverridden(
        **_BASE,
        source="coordinator:jabar",
        task_id="task-evacuation-cianjur-2022-eq",
        province_code="32",
        team_id="tagana-3203-01",
        action="assign",
        reason="team knows the area",
        coordinator="coord-jabar-01",
    ),
    ev.KitchenRegistered: ev.KitchenRegistered(
        **_BASE,
        source="coordinator:coord-sulteng-01",
        kitchen_id="dapur-dinsos-sulteng",
        name="Dapur Umum Kantor Dinas Sosial Provinsi Sulawesi Tengah",
        location={"lat": -0.8960, "lon": 119.8700},
        province_code="72",
        kabupaten_code="72.71",
        units=1,
        portions_per_cooking=2000,
        cookings_per_day=3,
        team_ids=["tagana-7271-01"],
        assigned_shelter_ids=[],
        warehouse_id="kemensos-makassar",
        coordinator="coord-sulteng-01",
    ),
    ev.KitchenStatusReported: ev.KitchenStatusReported(
        **_BASE,
        source="team:tagana-7271-01",
        kitchen_id="dapur-dinsos-sulteng",
        province_code="72",
        team_id="tagana-7271-01",
        status="open",
        meal="siang",
        portions_served=1850,
    ),
}

_PLAN = {"event_id": _EXAMPLE_ID, "occurred_at": _EXAMPLE_AT, "schema_version": 1,
         "source": "siaga.planner:32", "province_code": "32", "plan_id": "plan-32-17"}
_SHIPMENT = {
    "shipment_id": "shp-3f2a9c1d0e7b", "proposal_id": "plan-32-17:rice:dinsos-jabar:"
    "cjr-cugenang-lapangan", "status": "proposed", "warehouse_id": "dinsos-jabar",
    "warehouse_province": "32", "shelter_id": "cjr-cugenang-lapangan", "item_id": "rice",
    "unit": "kg", "quantity": 620.0, "tier": "province", "held": False, "travel_hours": 3.4,
    "eta": "2022-11-22T10:45:00+00:00",
    "batches": [{"batch_id": "dinsos-jabar-rice-01", "quantity": 620,
                 "expires_on": "2023-08-11"}],
    "summary": "620 kg rice to cjr-cugenang-lapangan: need 620 kg (1,240 people, 3 days)",
}
EXAMPLES.update({
    _out.ShipmentProposed: _out.ShipmentProposed(**_PLAN, **_SHIPMENT),
    _out.ShipmentProposalChanged: _out.ShipmentProposalChanged(
        **_PLAN, **dict(_SHIPMENT, quantity=480.0)),
    _out.ShipmentProposalWithdrawn: _out.ShipmentProposalWithdrawn(**_PLAN, **_SHIPMENT),
    _out.TeamDispatched: _out.TeamDispatched(
        **_PLAN, task_id="evacuation:cjr-cugenang-lapangan", team_id="tagana-cianjur-1"),
    _out.TeamReleased: _out.TeamReleased(
        **_PLAN, task_id="evacuation:cjr-cugenang-lapangan", team_id="tagana-cianjur-1"),
    _out.SupplyShortfallDetected: _out.SupplyShortfallDetected(
        **_PLAN, shortfall_id="cjr-cugenang-lapangan:infant_food", shelter_id=
        "cjr-cugenang-lapangan", item="infant_food", unit="pack", missing=96.0),
    _out.SupplyShortfallResolved: _out.SupplyShortfallResolved(
        **_PLAN, shortfall_id="cjr-cugenang-lapangan:infant_food"),
})


def _type_of(prop: dict[str, object]) -> str:
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])  # type: ignore[attr-defined]
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " or ".join(_type_of(p) for p in prop["anyOf"])  # type: ignore[attr-defined]
    kind = str(prop.get("type", "any"))
    if kind == "array":
        return f"array of {_type_of(prop.get('items', {}))}"  # type: ignore[arg-type]
    if "format" in prop:
        return f"{kind} ({prop['format']})"
    if "pattern" in prop:
        return f"{kind} `{prop['pattern']}`"
    return kind


def _description_of(prop: dict[str, object]) -> str:
    if "description" in prop:
        return str(prop["description"])
    for alt in prop.get("anyOf", []):  # type: ignore[attr-defined]
        if isinstance(alt, dict) and "description" in alt:
            return str(alt["description"])
    return ""


def render_events_md(partitions: int = 4) -> str:
    lines = [
        "# Event catalogue (schema version 1)",
        "",
        "<!-- Generated by `python -m siaga.catalogue` from siaga/events.py and "
        "siaga/catalogue.py. Do not edit by hand: a test compares it with the code. -->",
        "",
        "Every record on a Siaga topic is a UTF-8 JSON object. Every event carries:",
        "",
        "| field | meaning |",
        "|---|---|",
        "| `event_id` | client-generated UUID; the idempotency key (a retry reuses it) |",
        "| `occurred_at` | when it happened, ISO 8601 with a timezone; stored as UTC |",
        "| `source` | who produced it, e.g. `posko:cugenang` |",
        "| `schema_version` | version of the event's schema (`1`) |",
        "| `type` | which event it is (below) |",
        "",
        "The record **key** is the province code (`\"32\"` for Jawa Barat), so one "
        "province's events stay on one partition, in order. Topic names are "
        "`<prefix>.<name>` with prefix `siaga` by default (`SIAGA_TOPIC_PREFIX`); "
        f"partitions: `SIAGA_PARTITIONS` (default {partitions}).",
        "",
        "A record that is not JSON, has an unknown `type` or `schema_version`, or "
        f"violates its schema is parked on `siaga.{DEADLETTER}` with the reason and "
        "the original bytes (base64), and processing continues.",
        "",
        "JSON Schema (draft 2020-12) for each event: `docs/schemas/<type>.v1.json`.",
        "",
    ]
    for spec in (*TOPICS, *OUTPUT_SPECS):
        if spec is OUTPUT_SPECS[0]:
            lines += [
                "# Output events",
                "",
                "What the planners decide, for consumers outside Siaga. Each carries the "
                "envelope above (`source` `siaga.planner:<province>`; `event_id` derived from "
                "the plan and the event, so a re-plan redelivered after a crash repeats the "
                "same ids) plus `province_code` and `plan_id`. The fields below are "
                "guaranteed; further fields may appear: consumers ignore what they do not "
                "know.",
                "",
            ]
        lines += [
            f"## Topic `siaga.{spec.name}`",
            "",
            spec.description,
            "",
            f"- key: {spec.key}",
            f"- partitions: {partitions} (default)",
            "- events: " + ", ".join(f"`{event_type_name(t)}`" for t in spec.event_types),
            "",
        ]
        for model in spec.event_types:
            name = event_type_name(model)
            schema = json_schema(model)
            required = set(cast("list[str]", schema["required"]))
            props: dict[str, dict[str, object]] = schema["properties"]  # type: ignore[assignment]
            lines += [
                f"### `{name}` — {model.__name__}",
                "",
                (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else "",
                "",
                f"Schema: [`schemas/{name}.v1.json`](schemas/{name}.v1.json)",
                "",
                "| field | type | required | description |",
                "|---|---|---|---|",
            ]
            for field_name, prop in props.items():
                desc = _description_of(prop).replace("|", "\\|")
                req = "yes" if field_name in required else "no"
                lines.append(f"| `{field_name}` | {_type_of(prop)} | {req} | {desc} |")
            example = EXAMPLES[model].model_dump(mode="json")
            lines += [
                "",
                "Example:",
                "",
                "```json",
                json.dumps(example, indent=2, ensure_ascii=False),
                "```",
                "",
            ]
    lines += [
        f"## Topic `siaga.{DEADLETTER}`",
        "",
        "Records no agent could process. Value: JSON with `reason`, `topic`, `partition`, "
        "`offset`, `key` and `value_b64` (the original bytes, base64), `failed_at`. "
        "Key: the original key.",
        "",
    ]
    return "\n".join(lines)


def schema_files() -> dict[str, str]:
    out = {}
    for spec in (*TOPICS, *OUTPUT_SPECS):
        for model in spec.event_types:
            text = json.dumps(json_schema(model), indent=2, sort_keys=True, ensure_ascii=False)
            out[f"{event_type_name(model)}.v1.json"] = text + "\n"
    return out


def write_docs(root: Path) -> list[Path]:
    docs = root / "docs"
    (docs / "schemas").mkdir(parents=True, exist_ok=True)
    written = [docs / "events.md"]
    written[0].write_text(render_events_md())
    for name, text in schema_files().items():
        path = docs / "schemas" / name
        path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    for path in write_docs(root):
        print(f"wrote {path}")  # noqa: T201
