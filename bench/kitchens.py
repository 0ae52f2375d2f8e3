"""Benchmark: a province of 2,000 shelters plans with 30 public kitchens within the time it
plans without them.

    python -m bench.kitchens            # 2,000 shelters, 30 kitchens, 3 rounds each
    python -m bench.kitchens --quick    # 300 shelters, 5 kitchens, 1 round

Pure planning (``streams.planning.plan_province``, what the planner agent runs per province),
no broker: the same synthetic province (``siaga/synthetic.py``, Jawa Barat, fed through the
agents' own reducers) is planned **without** kitchens (the reference) and **with** them, side
by side and alternating in the same run: a first plan, and a re-plan after one headcount
changes (the steady state). With kitchens the plan also computes travel kitchens → shelters,
moves served shelters' meals into one demand point per kitchen, and solves the exact siting
model for the people left unfed (a Dumlap unit in stock and free kitchen teams, so it runs).
The ratio with / without is printed per phase; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from siaga import events as ev
from siaga.synthetic import province_disaster
from streams import ingest
from streams.incidents import apply_incident
from streams.kitchens import apply_kitchen_registered
from streams.planning import PlanningOptions, ProvinceState, plan_province

PROVINCE = "32"
REDUCERS = {
    "incident.reported": ("incidents", apply_incident),
    "shelter.registered": ("shelters", ingest.apply_shelter_registered),
    "shelter.headcount_reported": ("shelters", ingest.apply_headcount),
    "warehouse.registered": ("warehouses", ingest.apply_warehouse_registered),
    "warehouse.stock_level_reported": ("warehouses", ingest.apply_stock_level),
    "team.status_reported": ("teams", ingest.apply_team_status),
    "kitchen.registered": ("kitchens", apply_kitchen_registered),
}
KITCHEN_STOCK = (("side_dish", "pack", 400_000), ("cooking_fuel", "kg", 40_000),
                 ("clean_water", "L", 4_000_000), ("field_kitchen", "unit", 6))


def _fold(state: ProvinceState, events: list[Any]) -> None:
    for event in events:
        table, reducer = REDUCERS[event.type]
        reducer(getattr(state, table), event)


def build(shelters: int, kitchens: int, now: datetime) -> tuple[ProvinceState, ProvinceState,
                                                                ProvinceState, Any]:
    """(baseline: no kitchens and no Dumlap in stock, so nothing about kitchens is computed
    beyond finding that none can open; without kitchens but with Dumlap units and free teams,
    so the siting model runs for everybody; with kitchens; a headcount change) for the same
    province."""
    teams = kitchens + 10
    disaster = province_disaster(PROVINCE, shelters, warehouses=6, teams=teams, seed=16,
                                 now=now, tag="kit")
    setup = list(disaster.setup)
    base = {"source": "bench:kitchens", "schema_version": 1}
    at = now - timedelta(hours=5)
    warehouse = next(e for e in setup if isinstance(e, ev.WarehouseRegistered))
    for item, unit, qty in KITCHEN_STOCK:
        setup.append(ev.StockLevelReported(
            event_id=uuid.uuid4(), occurred_at=at, **base, warehouse_id=warehouse.warehouse_id,
            province_code=PROVINCE, item=item, batch_id=f"kit-{item}", quantity=qty, unit=unit))
    baseline = ProvinceState(PROVINCE)
    _fold(baseline, [e for e in setup
                     if not (isinstance(e, ev.StockLevelReported) and e.item == "field_kitchen")])
    without, with_ = ProvinceState(PROVINCE), ProvinceState(PROVINCE)
    _fold(without, setup)
    _fold(with_, setup)
    registered = [e for e in setup if isinstance(e, ev.ShelterRegistered)]
    step = max(1, len(registered) // kitchens)
    team_ids = [e.team_id for e in setup if isinstance(e, ev.TeamStatusReported)]
    for k in range(kitchens):
        site = registered[(k * step) % len(registered)]
        _fold(with_, [ev.KitchenRegistered(
            event_id=uuid.uuid4(), occurred_at=at, **base, kitchen_id=f"kit-dapur-{k}",
            name=f"Dapur Umum {k}", location=site.location, province_code=PROVINCE,
            kabupaten_code=site.kabupaten_code, team_ids=[team_ids[k]],
            coordinator="bench")])
    sid = registered[len(registered) // 3].shelter_id
    change = ev.ShelterHeadcountReported(
        event_id=uuid.uuid4(), occurred_at=now - timedelta(minutes=1), **base, shelter_id=sid,
        province_code=PROVINCE, total=777, posko_id="kit-posko-32")
    return baseline, without, with_, change


KITCHEN_CPU: dict[str, float] = {"plan_meals": 0.0, "propose": 0.0}


def _instrument() -> None:
    """Count the CPU seconds the kitchen steps take inside plan_province."""
    from streams import kitchen_planning

    for name in KITCHEN_CPU:
        original = getattr(kitchen_planning, name)

        def timed(*args: Any, _f: Any = original, _n: str = name, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return _f(*args, **kwargs)
            finally:
                KITCHEN_CPU[_n] += time.process_time() - started

        setattr(kitchen_planning, name, timed)


def _timed(state: ProvinceState, previous: dict[str, Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, outcome). On a shared machine the CPU time
    is the steadier figure: the wall time includes waiting for a core."""
    started, cpu = time.perf_counter(), time.process_time()
    outcome = plan_province(state, previous, PlanningOptions())
    return time.perf_counter() - started, time.process_time() - cpu, outcome


def run(shelters: int, kitchens: int, rounds: int) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    baseline, without, with_, change = build(shelters, kitchens, now)
    # warm: geo index, profiles, the solver's compiled code
    plan_province(ProvinceState(PROVINCE, shelters=dict(list(without.shelters.items())[:20]),
                                warehouses=without.warehouses), {}, PlanningOptions())
    labels = ("baseline", "without", "with")
    times: dict[str, dict[str, list[float]]] = {
        phase: {label: [] for label in labels} for phase in ("first_plan", "replan")}
    cpu: dict[str, dict[str, list[float]]] = {
        phase: {label: [] for label in labels} for phase in ("first_plan", "replan")}
    kitchen_cpu: dict[str, list[float]] = {label: [] for label in labels}
    _instrument()
    facts: dict[str, Any] = {}
    for _ in range(rounds):
        for label, state in (("baseline", baseline), ("without", without), ("with", with_)):
            for key in KITCHEN_CPU:
                KITCHEN_CPU[key] = 0.0
            first_s, first_cpu, outcome = _timed(state, {})
            kitchen_cpu[label].append(sum(KITCHEN_CPU.values()))
            times["first_plan"][label].append(first_s)
            cpu["first_plan"][label].append(first_cpu)
            after = ProvinceState(**{**state.__dict__})
            after.shipments = outcome.shipments
            after.shelters = dict(state.shelters)
            ingest.apply_headcount(after.shelters, change)
            replan_s, replan_cpu, second = _timed(after, outcome.plan)
            times["replan"][label].append(replan_s)
            cpu["replan"][label].append(replan_cpu)
            views = [v for e, _, v in outcome.entities if e == "kitchen"]
            proposals = [v for e, _, v in outcome.entities if e == "kitchen_proposal"]
            facts[label] = {
                "proposals": len(outcome.plan["plan"]["proposals"]),
                "to_kitchens": sum(1 for p in outcome.plan["plan"]["proposals"]
                                   if p["shelter_id"].startswith("kit-dapur-")),
                "kitchens": len(views),
                "shelters_served": sum(v["shelters_served"] for v in views),
                "capacity_per_day": sum(v["capacity_per_day"] for v in views),
                "portions_needed_per_day": sum(v["portions_needed_per_day"] for v in views),
                "kitchen_proposals": len([p for p in proposals if p.get("site")]),
                "entities_changed_on_replan": len(second.entities),
            }
    out: dict[str, Any] = {"shelters": shelters, "kitchens": kitchens, "rounds": rounds,
                           "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
                           "python": platform.python_version(),
                           "at": now.isoformat(), "facts": facts}
    for phase, by in times.items():
        b = statistics.median(by["baseline"])
        w, k = statistics.median(by["without"]), statistics.median(by["with"])
        cb, cw, ck = (statistics.median(cpu[phase][x]) for x in labels)
        out[phase] = {"baseline_s": round(b, 3), "without_s": round(w, 3), "with_s": round(k, 3),
                      "ratio_with_over_baseline": round(k / b, 3),
                      "ratio_with_over_without": round(k / w, 3),
                      "cpu_baseline_s": round(cb, 3), "cpu_without_s": round(cw, 3),
                      "cpu_with_s": round(ck, 3),
                      "cpu_ratio_with_over_baseline": round(ck / cb, 3),
                      "cpu_ratio_with_over_without": round(ck / cw, 3)}
    out["kitchen_steps_cpu_s_first_plan"] = {
        x: round(statistics.median(kitchen_cpu[x]), 3) for x in labels}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--shelters", type=int, default=None)
    parser.add_argument("--kitchens", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    shelters = args.shelters or (300 if args.quick else 2000)
    kitchens = args.kitchens or (5 if args.quick else 30)
    rounds = args.rounds or (1 if args.quick else 3)
    result = run(shelters, kitchens, rounds)
    for phase in ("first_plan", "replan"):
        r = result[phase]
        print(f"{phase:>10}: baseline (no kitchens, no Dumlap) {r['baseline_s']:.2f} s, "
              f"no kitchens but Dumlap + teams (siting for all) {r['without_s']:.2f} s, "
              f"with {kitchens} kitchens {r['with_s']:.2f} s; ratio with/baseline "
              f"{r['ratio_with_over_baseline']:.2f}x, with/without "
              f"{r['ratio_with_over_without']:.2f}x")
        print(f"{'':>10}  CPU: baseline {r['cpu_baseline_s']:.2f} s, without "
              f"{r['cpu_without_s']:.2f} s, with {r['cpu_with_s']:.2f} s; ratio with/baseline "
              f"{r['cpu_ratio_with_over_baseline']:.2f}x, with/without "
              f"{r['cpu_ratio_with_over_without']:.2f}x")
    print(f"kitchen steps (plan_meals + propose), CPU s in a first plan: "
          f"{result['kitchen_steps_cpu_s_first_plan']}")
    for label, f in result["facts"].items():
        print(f"{label:>10}: {f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
