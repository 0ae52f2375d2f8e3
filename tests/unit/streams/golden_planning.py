"""Golden runs of the province planner: the replayed disasters and a synthetic province,
folded the way the worker folds them and planned twice, as content hashes.

Each case folds its events into per-entity rows with the input agents' own routing tables
(captured from ``streams.shelters``/``warehouses``/``teams``/``kitchens``/``incidents``
``register``), assembles each province like the planner (:func:`streams.store.assemble`),
plans it (:func:`streams.planning.plan_province`), writes back what the plan changed
(:func:`streams.store.province_writes`), sends the escalations through the national tier,
then moves things on — new headcounts, shipments confirmed, dispatched (departures on
their batches), delivered (received at the shelter), held and rejected, a dispatch override,
a team's progress, a kitchen's served meal, a coordinator's shortfall decision — and
re-plans, so the previous-plan paths run. Every part the planner returns (entities, events,
escalation, shipments, plan row) and the writes are hashed per province and plan.

``python -m tests.unit.streams.golden_planning`` prints the hashes (to record them in
``test_planning_golden.py`` after a change that is meant to change plans);
``python -m tests.unit.streams.golden_planning --bench N`` times a re-plan of a synthetic
province of N shelters (CPU seconds of ``plan_province``, made as the planning process makes it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from unittest import mock

from siaga import events as ev
from siaga import scenarios, synthetic
from siaga.events import InvalidRecord
from streams import incidents, ingest, kitchens, shelters, teams, warehouses
from streams.national import plan_national, result_entities
from streams.planning import PlanningOptions, plan_province
from streams.planpool import apply_rows
from streams.plumbing import Route, stamp_accepted
from streams.store import ALL_TABLES, assemble_with_memory, is_memory_view, province_writes

NS = uuid.UUID("6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b")
SCENARIOS = ("cianjur-2022", "palu-2018", "semeru-2021")
SYNTHETIC_PROVINCE = "33"
SYNTHETIC_SHELTERS = 300
SYNTHETIC_NOW = datetime(2024, 2, 14, 6, 0, tzinfo=UTC)
PARTS = ("entities", "events", "escalation", "shipments", "plan", "writes")

Rows = dict[str, dict[str, Any]]


def _id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NS, "|".join(str(p) for p in parts))


def digest(value: Any) -> str:
    """A hash of JSON-able data: key order does not matter, list order does."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- the worker's routes


def worker_routes() -> dict[str, Route]:
    """Every input agent's routing table, as the worker registers it (event type → route)."""
    routes: dict[str, Route] = {}

    def capture(_ctx: Any, _topic: str, table: dict[str, Route], **_: Any) -> None:
        routes.update(table)

    for module in (incidents, shelters, warehouses, teams, kitchens):
        with mock.patch.object(module, "register_ingest", capture):
            module.register(None)
    return routes


class Province:
    """One province's per-entity rows, folded and planned like the worker does."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.rows: Rows = {name: {} for name in ALL_TABLES}
        self.memory: dict[str, str] = {}
        self.parked: list[str] = []
        self.outcomes: list[Any] = []

    def fold(self, routes: dict[str, Route], event: Any, accepted: datetime | None = None
             ) -> None:
        """:func:`streams.plumbing.fold`: the event into the one entity it concerns, the
        row stamped with when it was accepted (here: when it occurred)."""
        route = routes[event.type]
        entity_id = route.entity_id(event)
        current = self.rows[route.table].get(entity_id)
        view = {} if current is None else {entity_id: current}
        try:
            if route.reducer(view, event) is None:
                return
        except InvalidRecord as exc:
            self.parked.append(f"{event.type}: {exc.reason}")
            return
        self.rows[route.table][entity_id] = stamp_accepted(
            view[entity_id], accepted or event.occurred_at)

    def move_shipment(self, event: ev.ShipmentStatusChanged | ev.ShipmentHoldChanged) -> None:
        """The shipments agent: the move, and what it means for batches and shelters."""
        reducer: Callable[[Any, Any], Any] = (
            ingest.apply_shipment_status if isinstance(event, ev.ShipmentStatusChanged)
            else ingest.apply_shipment_hold)
        table = self.rows["shipments"]
        view = {event.shipment_id: table[event.shipment_id]}
        try:
            if reducer(view, event) is None:
                return
        except InvalidRecord as exc:
            self.parked.append(f"{event.type}: {exc.reason}")
            return
        row = stamp_accepted(view[event.shipment_id], event.occurred_at)
        table[event.shipment_id] = row
        if not isinstance(event, ev.ShipmentStatusChanged):
            return
        home = row.get("warehouse_province") or self.code
        if row["status"] == "dispatched" and home == self.code:
            # (another province's warehouse records it from siaga.stock-moves: not here)
            for pick in row.get("batches", []):
                key = ingest.batch_entity_id(row["warehouse_id"], pick["batch_id"])
                batch = self.rows["batches"].get(key)
                if batch is None:
                    continue
                moved = ingest.record_departure(batch, row["shipment_id"],
                                                int(pick["quantity"]), row["dispatched_at"])
                if moved is not None:
                    self.rows["batches"][key] = moved
        elif row["status"] == "delivered":
            for name in ("shelters", "kitchens"):
                place = self.rows[name].get(row["shelter_id"])
                if place is not None:
                    self.rows[name][row["shelter_id"]] = ingest.record_delivery(place, row)
                    break

    def decide(self, event: ev.EscalationDecisionRecorded) -> None:
        """The shipments agent's fold of a coordinator's decision on what the national tier
        sent (:func:`streams.planning.gate.apply_escalation_decision`)."""
        from streams.planning.gate import apply_escalation_decision, covered_key, decision_key

        if event.shipment_id is not None:
            target = self.rows["shipments"].get(event.shipment_id)
        else:
            target = self.rows["national"].get(covered_key(str(event.task_id),
                                                           str(event.team_id)))
        key = decision_key(event)
        current = self.rows["overrides"].get(key)
        view = {} if current is None else {key: current}
        try:
            if apply_escalation_decision(view, event, target) is None:
                return
        except InvalidRecord as exc:
            self.parked.append(f"{event.type}: {exc.reason}")
            return
        self.rows["overrides"][key] = stamp_accepted(dict(view[key]), event.occurred_at)

    def plan(self, opts: PlanningOptions) -> dict[str, str]:
        """Assemble, plan, write back (the planner's loop); the hashes of what it returned."""
        loaded = assemble_with_memory(self.code, self.rows, dict(self.memory))
        outcome = plan_province(loaded.state, loaded.previous, opts)
        writes = province_writes(loaded, outcome)
        for table, changed in writes.planner.items():
            _apply(self.rows[table], changed)
        _apply(self.rows["shipments"], writes.shipments)
        self.memory = {k: v for k, v in outcome.plan["projected"].items() if is_memory_view(k)}
        self.outcomes.append(outcome)
        parts = {
            "entities": outcome.entities,
            "events": outcome.events,
            "escalation": outcome.escalation,
            "shipments": outcome.shipments,
            "plan": outcome.plan,
            "writes": [writes.planner, writes.shipments, writes.escalation],
        }
        return {name: digest(parts[name]) for name in PARTS}


_apply = apply_rows  # a plan's writes into one table, as the planning process applies them


# ---------------------------------------------------------------- between two plans


def _env(at: datetime, *parts: object, source: str = "golden") -> dict[str, Any]:
    return {"event_id": _id(*parts), "occurred_at": at, "source": source, "schema_version": 1}


def _national(provinces: dict[str, Province]) -> None:
    """The national tier on the first plans' escalations; its results as the planner's
    ``national`` rows (``{seq, data}`` per result entity)."""
    snapshots = {code: p.outcomes[-1].escalation for code, p in provinces.items()}
    _record, results = plan_national(snapshots, {})
    for key, data in sorted(result_entities(results).items()):
        code, kind, entity_id = key.split("|", 2)
        if code in provinces:
            provinces[code].rows["national"][f"{kind}|{entity_id}"] = {"seq": 1, "data": data}


def move_on(p: Province, routes: dict[str, Route], at: datetime) -> None:
    """What happens between two plans (deterministic): new headcounts, shipments moved,
    team progress and overrides, a kitchen's meal, a shortfall decision."""
    minute = 0

    def tick() -> datetime:
        nonlocal minute
        minute += 1
        return at + timedelta(minutes=minute)

    # headcounts: every third shelter with people, up or down
    counted = [(sid, row) for sid, row in sorted(p.rows["shelters"].items())
               if row.get("headcount") and row.get("posko_id")]
    for n, (sid, row) in enumerate(counted[::3]):
        total = int(row["headcount"]["total"])
        total = total * 13 // 10 + 7 if n % 2 == 0 else max(1, total * 7 // 10)
        p.fold(routes, ev.ShelterHeadcountReported(
            **_env(tick(), p.code, sid, "headcount"), shelter_id=sid, province_code=p.code,
            total=total, infants=total // 25, children=total // 5, elderly=total // 9,
            pregnant_lactating=total // 40, disabled=total // 60, posko_id=row["posko_id"]))
    # shipments: confirmed; dispatched; delivered (one short); held; rejected
    proposed = [s for _, s in sorted(p.rows["shipments"].items())
                if s["status"] == "proposed" and s.get("tier", "province") == "province"]
    for n, shipment in enumerate(proposed[:6]):
        sid, wh = shipment["shipment_id"], shipment["warehouse_id"]

        def status(state: str, shipment_id: str = sid, warehouse: str = wh,
                   **kw: Any) -> ev.ShipmentStatusChanged:
            return ev.ShipmentStatusChanged(
                **_env(tick(), p.code, shipment_id, state, source=f"warehouse:{warehouse}"),
                shipment_id=shipment_id, province_code=p.code, warehouse_id=warehouse,
                status=state, **kw)

        if n == 4:
            p.move_shipment(ev.ShipmentHoldChanged(
                **_env(tick(), p.code, sid, "hold"), shipment_id=sid, province_code=p.code,
                held=True, reason="road closed", coordinator="coord-golden"))
            continue
        if n == 5:
            p.move_shipment(status("rejected", reason="batch damaged"))
            continue
        picks = [{"batch_id": b["batch_id"], "quantity": b["quantity"]}
                 for b in shipment["batches"]]
        p.move_shipment(status("confirmed", batches=picks))
        if n >= 1:
            p.move_shipment(status("dispatched"))
        if n >= 2:
            p.move_shipment(status("delivered",
                                   quantity_received=max(0, int(shipment["quantity"]) - 1)))
    # teams: progress on the phone loop, overrides for the others
    tasks = sorted(p.rows["tasks"].items())
    loop = [(task_id, team_id) for task_id, row in tasks for team_id in row.get("teams") or ()
            if (p.rows["teams"].get(team_id) or {}).get("registration_version")]
    for (task_id, team_id), step in zip(loop, ("acknowledged", "declined", "done"),
                                        strict=False):
        if step == "done":
            p.fold(routes, ev.TaskProgressReported(
                **_env(tick(), p.code, task_id, team_id, "ack", source=f"team:{team_id}"),
                task_id=task_id, team_id=team_id, province_code=p.code,
                status="acknowledged"))
        p.fold(routes, ev.TaskProgressReported(
            **_env(tick(), p.code, task_id, team_id, step, source=f"team:{team_id}"),
            task_id=task_id, team_id=team_id, province_code=p.code, status=step,
            reason="vehicle broke down" if step == "declined" else None))
    assigned = [(task_id, team_id) for task_id, row in tasks for team_id in row.get("teams") or ()
                if not (p.rows["teams"].get(team_id) or {}).get("registration_version")]
    if assigned:
        task_id, team_id = assigned[0]
        p.fold(routes, ev.DispatchOverridden(
            **_env(tick(), p.code, task_id, team_id, "release"), task_id=task_id,
            province_code=p.code, team_id=team_id, action="release", reason="needed elsewhere",
            coordinator="coord-golden"))
        if len(tasks) > 1:
            other = tasks[-1][0]
            p.fold(routes, ev.DispatchOverridden(
                **_env(tick(), p.code, other, team_id, "assign"), task_id=other,
                province_code=p.code, team_id=team_id, action="assign", reason="knows the area",
                coordinator="coord-golden"))
    # a kitchen's meal, reported by a team running it
    for kitchen_id, row in sorted(p.rows["kitchens"].items())[:1]:
        team_id = (row.get("team_ids") or [None])[0]
        if team_id:
            p.fold(routes, ev.KitchenStatusReported(
                **_env(tick(), p.code, kitchen_id, "served", source=f"team:{team_id}"),
                kitchen_id=kitchen_id, province_code=p.code, team_id=team_id, status="open",
                meal="siang", portions_served=1234))
    # a coordinator's decision on the first shortfall of the first plan
    shortfalls = p.outcomes[-1].escalation["shortfalls"]
    for shortfall in shortfalls[:1]:
        if shortfall["shelter_id"] in p.rows["shelters"]:
            p.fold(routes, ev.ShortfallDecisionRecorded(
                **_env(tick(), p.code, shortfall["shelter_id"], "decision",
                       source="coordinator:coord-golden"),
                shelter_id=shortfall["shelter_id"], province_code=p.code,
                item=shortfall["item_id"], decision="donor_request", note="asked PMI",
                coordinator="coord-golden"))


def _national_proposed(p: Province) -> list[dict[str, Any]]:
    return [s for _, s in sorted(p.rows["shipments"].items())
            if s["status"] == "proposed" and s.get("tier") == "national"]


def _decide_national(p: Province) -> bool:
    """The approval gate: a confirmation of a national-tier shipment before its approval is
    refused (parked); the receiving province's coordinator approves two and declines a
    third, approves one mobilised team and declines another. False when the national tier
    sent nothing."""
    national = _national_proposed(p)
    if not national:
        return False
    at = datetime.fromisoformat(p.outcomes[-1].plan["planned_at"]) + timedelta(hours=2)
    first = national[0]
    p.move_shipment(ev.ShipmentStatusChanged(
        **_env(at - timedelta(minutes=30), p.code, first["shipment_id"], "early",
               source=f"warehouse:{first['warehouse_id']}"),
        shipment_id=first["shipment_id"], province_code=p.code,
        warehouse_id=first["warehouse_id"], status="confirmed",
        batches=[{"batch_id": b["batch_id"], "quantity": b["quantity"]}
                 for b in first["batches"]]))
    for n, shipment in enumerate(national[:3]):
        p.decide(ev.EscalationDecisionRecorded(
            **_env(at - timedelta(minutes=20 - n), p.code, shipment["shipment_id"], "gate",
                   source="coordinator:coord-golden"),
            province_code=p.code, shipment_id=shipment["shipment_id"],
            decision="declined" if n == 2 else "approved",
            reason="stok datang dari donatur" if n == 2 else None,
            coordinator="coord-golden"))
    covered = sorted(k for k, v in p.rows["national"].items() if k.startswith("c|") and v)
    for n, key in enumerate(covered[:2]):
        _, task_id, team_id = key.split("|", 2)
        p.decide(ev.EscalationDecisionRecorded(
            **_env(at - timedelta(minutes=10 - n), p.code, key, "gate",
                   source="coordinator:coord-golden"),
            province_code=p.code, task_id=task_id, team_id=team_id,
            decision="declined" if n == 1 else "approved",
            reason="tim lokal cukup" if n == 1 else None, coordinator="coord-golden"))
    return True


def _move_national(p: Province) -> None:
    """The approved national-tier shipments: one confirmed and dispatched, another confirmed
    (in transit for the province's needs, sent up again as national shipments)."""
    national = [s for s in _national_proposed(p) if s.get("approval") == "approved"]
    at = datetime.fromisoformat(p.outcomes[-1].plan["planned_at"]) + timedelta(hours=2)
    for n, shipment in enumerate(national[:2]):
        sid, wh = shipment["shipment_id"], shipment["warehouse_id"]
        picks = [{"batch_id": b["batch_id"], "quantity": b["quantity"]}
                 for b in shipment["batches"]]
        for k, (state, kw) in enumerate((("confirmed", {"batches": picks}), ("dispatched", {}))):
            if state == "dispatched" and n == 1:
                break
            p.move_shipment(ev.ShipmentStatusChanged(
                **_env(at + timedelta(minutes=n * 2 + k), p.code, sid, state,
                       source=f"warehouse:{wh}"),
                shipment_id=sid, province_code=p.code, warehouse_id=wh, status=state, **kw))


# ---------------------------------------------------------------- the cases


def run_events(name: str, events: Iterable[Any], opts: PlanningOptions | None = None
               ) -> dict[str, dict[str, str]]:
    """Fold, plan, go national, move on, re-plan: ``{"<case>/<province>/<plan>": hashes}``."""
    opts = opts or PlanningOptions()
    routes = worker_routes()
    provinces: dict[str, Province] = {}
    for event in events:
        code = event.province_code
        provinces.setdefault(code, Province(code)).fold(routes, event)
    planned = dict(sorted(provinces.items()))
    out: dict[str, dict[str, str]] = {}
    for code, p in planned.items():
        out[f"{name}/{code}/1"] = p.plan(opts)
    _national(planned)
    for code, p in planned.items():
        at = datetime.fromisoformat(p.outcomes[-1].plan["planned_at"]) + timedelta(hours=1)
        move_on(p, routes, at)
        out[f"{name}/{code}/2"] = p.plan(opts)
    for code, p in planned.items():
        if _decide_national(p):
            out[f"{name}/{code}/3"] = p.plan(opts)
            _move_national(p)
            out[f"{name}/{code}/4"] = p.plan(opts)
    for code, p in planned.items():
        out[f"{name}/{code}/inputs"] = {"parked": digest(p.parked),
                                        "rows": digest(p.rows)}
    return out


def scenario_events(name: str) -> list[Any]:
    return [t.event for t in scenarios.build_events(scenarios.load(name))]


def synthetic_events(province: str = SYNTHETIC_PROVINCE, shelters_: int = SYNTHETIC_SHELTERS,
                     now: datetime = SYNTHETIC_NOW) -> list[Any]:
    """A synthetic province (:func:`siaga.synthetic.province_disaster`) with teams on the
    phone loop, kitchens, a regional warehouse, a Lumbung Sosial, Dumlap units and a batch
    too close to expiry."""
    disaster = synthetic.province_disaster(province, shelters_, updates=shelters_ // 4,
                                           now=now - timedelta(hours=1), tag="golden")
    out: list[Any] = [*disaster.setup, *disaster.headcounts]
    start = now - timedelta(hours=8)
    points = synthetic.kabupaten_points(province)
    registered = [e for e in disaster.setup if isinstance(e, ev.ShelterRegistered)]
    places = (("golden-regional", "regional", points[0]),
              ("golden-lumbung", "lumbung_sosial", points[1 % len(points)]))
    for wid, kind, (lat, lon, kab) in places:
        out.append(ev.WarehouseRegistered(
            **_env(start, wid), warehouse_id=wid, name=f"Gudang {wid}", kind=kind,
            location={"lat": lat, "lon": lon}, province_code=province, kabupaten_code=kab))
        for item, unit, qty in (("rice", "kg", 30_000), ("blanket", "piece", 4_000)):
            out.append(ev.StockLevelReported(
                **_env(start, wid, item), warehouse_id=wid, province_code=province, item=item,
                batch_id=f"{wid}-{item}", quantity=qty, unit=unit))
    first = next(e for e in disaster.setup if isinstance(e, ev.WarehouseRegistered))
    for batch_id, item, unit, qty, expires in (
            ("golden-dumlap", "field_kitchen", "unit", 3, None),
            ("golden-near-expiry", "rice", "kg", 50_000, (now + timedelta(days=30)).date()),
            ("golden-later", "rice", "kg", 20_000, (now + timedelta(days=200)).date())):
        out.append(ev.StockLevelReported(
            **_env(start, batch_id), warehouse_id=first.warehouse_id, province_code=province,
            item=item, batch_id=batch_id, quantity=qty, unit=unit, expires_on=expires))
    loop_teams = [f"golden-tim-{n}" for n in range(4)]
    for n, team_id in enumerate(loop_teams):
        lat, lon, kab = points[n % len(points)]
        out.append(ev.TeamRegistered(
            **_env(start, team_id, "registered", source="coordinator:coord-golden"),
            team_id=team_id, name=f"TAGANA Golden {n}", province_code=province,
            kabupaten_code=kab, base={"lat": lat, "lon": lon},
            members=[{"name": "Asep", "role": "ketua"}, {"name": "Dedi"}],
            skills=["shelter_setup", "psychosocial", "evacuation"], rank="madya",
            coordinator="coord-golden"))
        out.append(ev.TeamAvailabilityReported(
            **_env(start + timedelta(minutes=5), team_id, "available", source=f"team:{team_id}"),
            team_id=team_id, province_code=province, availability="available",
            members_present=2))
    cooks = [f"golden-dapur-tim-{n}" for n in range(3)]
    for n, team_id in enumerate(cooks):
        lat, lon, kab = points[(n + 2) % len(points)]
        out.append(ev.TeamStatusReported(
            **_env(start, team_id), team_id=team_id, name=f"Dapur {n}", province_code=province,
            kabupaten_code=kab, location={"lat": lat, "lon": lon}, skills=["public_kitchen"],
            members=10, availability="available"))
    for n, shelter in enumerate(registered[:2]):
        kitchen_id = f"golden-dapur-{n}"
        out.append(ev.KitchenRegistered(
            **_env(start + timedelta(minutes=10), kitchen_id, source="coordinator:coord-golden"),
            kitchen_id=kitchen_id, name=f"Dapur Umum {n}",
            location={"lat": shelter.location.lat + 0.001, "lon": shelter.location.lon},
            province_code=province, kabupaten_code=shelter.kabupaten_code,
            team_ids=[cooks[n]], assigned_shelter_ids=[registered[-1 - n].shelter_id],
            coordinator="coord-golden"))
    return out


CASES: dict[str, Callable[[], list[Any]]] = {
    **{name: partial(scenario_events, name) for name in SCENARIOS},
    "synthetic": synthetic_events,
}


def golden() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, events in CASES.items():
        out.update(run_events(name, events()))
    return out


# ---------------------------------------------------------------- CPU of a re-plan


def bench(shelters_: int, repeats: int, changed: int | None = None,
          memo: bool = True) -> list[float]:
    """CPU seconds of ``plan_province`` re-planning a synthetic province of ``shelters_``
    shelters after ``changed`` headcounts (default a quarter of the shelters), each time
    right after the re-plan before it (not timed), as the planning process does; with the
    garbage collector set as in the worker's planning process (streams/planpool.py).
    ``memo=False``: every view is built and hashed again, every plan line written out and
    every need worked out (as before the view memo, ``plan_as_dict`` and ``needs_of``)."""
    import copy
    import gc

    from logistics.allocation import heap_frozen
    from logistics.needs import compute_needs
    from streams.planning.views import forget_views
    from streams.planpool import GC_THRESHOLDS, collections_paused

    province = "32"
    now = datetime(2024, 2, 14, 6, 0, tzinfo=UTC)
    changed = shelters_ // 4 if changed is None else changed
    disaster = synthetic.province_disaster(province, shelters_, updates=2 * changed,
                                           now=now, tag="bench")
    routes = worker_routes()
    p = Province(province)
    for event in disaster.setup:
        p.fold(routes, event)
    opts = PlanningOptions()
    p.plan(opts)
    # a re-plan after `changed` headcounts, then the one timed after `changed` more: the
    # province's plans are re-plans (the first plan's lines change once more when kept)
    for event in disaster.headcounts[:changed]:
        p.fold(routes, event)
    before = assemble_with_memory(province, copy.deepcopy(p.rows), dict(p.memory))
    p.plan(opts)
    for event in disaster.headcounts[changed:]:
        p.fold(routes, event)
    loaded = assemble_with_memory(province, p.rows, dict(p.memory))
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    heap_frozen()
    times = []
    # without: every view built and hashed, every line written out (plan.to_dict())
    plain: list[Any] = [
        mock.patch("streams.planning.province.plan_as_dict",
                   lambda _province, plan: plan.to_dict()),
        mock.patch("streams.planning.supplies.needs_of",
                   lambda _province, counts, profile, days, on_hand, in_transit:
                   compute_needs(counts, profile, days, on_hand=on_hand,
                                 in_transit=in_transit))]
    for _ in range(repeats):
        forget_views()
        plan_province(before.state, before.previous, opts)  # the plan before (not timed)
        if not memo:
            forget_views()
            for patch in plain:
                patch.start()
        # as in the planning process: the collector paused for the plan, and the young
        # collection that follows it (over what lives on) counted
        started = time.process_time()
        with collections_paused():
            plan_province(loaded.state, loaded.previous, opts)
        gc.collect(0)
        times.append(time.process_time() - started)
        if not memo:
            for patch in plain:
                patch.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bench", type=int, metavar="SHELTERS")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--changed", type=int, metavar="HEADCOUNTS",
                        help="with --bench: headcounts changed before the re-plan timed "
                        "(default a quarter of the shelters)")
    args = parser.parse_args()
    if args.bench:
        # side by side: with the view memo, and every view built and hashed again
        out: dict[str, Any] = {"shelters": args.bench}
        for name, memo in (("memo", True), ("no_memo", False)):
            times = bench(args.bench, args.repeats, args.changed, memo)
            out[name] = {"cpu_seconds": [round(t, 3) for t in times],
                         "median": round(sorted(times)[len(times) // 2], 3)}
        out["ratio_median"] = round(out["memo"]["median"] / out["no_memo"]["median"], 3)
        print(json.dumps(out))
        return
    print(json.dumps(golden(), indent=4, sort_keys=True))


if __name__ == "__main__":
    main()
