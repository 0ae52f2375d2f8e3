"""The approval gate on what the national tier sends a province (:mod:`logistics.approval`).

A coordinator's ``escalation.decision_recorded`` is folded by the shipments agent
(:func:`apply_escalation_decision`, checked again there: the record must be a coordinator's
and name a national-tier shipment to the province it is keyed by, or a team the national
tier mobilised to one of its tasks — anything else is dead-lettered with the reason) into a
row of the province's ``overrides`` table (:class:`streams.planning.rows.GateRow`, keys
``gate|shipment|<id>`` and ``gate|team|<task>|<team>``; the dispatch overrides there are
keyed ``<task>|<team>``). The planner reads them (:func:`read_gates`):

- a national shipment is ``awaiting`` until approved (then ``approved``), ``not_required``
  when the national tier says the gate is off; a declined one is withdrawn;
- a team mobilised from another province is shown awaiting in both provinces and is not
  dispatched (no assignment on its phone) until approved;
- a decline stands for the need — the shelter's need of that item, or the task — until it
  grows by a quarter (:func:`logistics.approval.decline_stands`): meanwhile the province
  escalates only what was approved for it, so the national tier proposes nothing more.

Pure: rows in, rows out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from logistics.approval import CLEARED, Approval, decline_stands
from siaga import events as ev
from siaga.events import InvalidRecord
from streams.changes import version_of
from streams.planning.rows import GateRow, MobilisedTeam, OverrideRow, ShipmentRow
from streams.planning.state import ProvinceState

GATE = "gate"
#: Whose records decide (``source``): a coordinator's (the API checks their province) or an
#: admin's.
DECIDERS = ("coordinator:", "admin:")

Pair = tuple[str, str]


def shipment_key(shipment_id: str) -> str:
    """The overrides-table key of a decision on a national-tier shipment."""
    return f"{GATE}|shipment|{shipment_id}"


def team_key(task_id: str, team_id: str) -> str:
    """The overrides-table key of a decision on a team mobilised to a task."""
    return f"{GATE}|team|{task_id}|{team_id}"


def covered_key(task_id: str, team_id: str) -> str:
    """The national-table key of the national tier's result "team X covers task Y here"."""
    return f"c|{task_id}|{team_id}"


def decision_key(event: ev.EscalationDecisionRecorded) -> str:
    """Where a decision is kept in the province's ``overrides`` table."""
    if event.shipment_id is not None:
        return shipment_key(event.shipment_id)
    return team_key(str(event.task_id), str(event.team_id))


def is_gate(key: str) -> bool:
    return key.startswith(GATE + "|")


def apply_escalation_decision(
    view: dict[str, Any], event: ev.EscalationDecisionRecorded,
    target: Mapping[str, Any] | None,
) -> GateRow | None:
    """Fold a coordinator's decision into its gate row (``view``: ``{key: row}`` of
    :func:`decision_key`); None when it changes nothing (a redelivery, or older than the
    decision kept). ``target`` is what it decides on, read from the province's tables: the
    shipment's row, or the national tier's result row ``c|<task>|<team>`` (``{seq, data}``).

    Raises :class:`InvalidRecord` (the record is dead-lettered with the reason) unless it
    comes from a coordinator and names a national-tier shipment still proposed to the keyed
    province, or a team the national tier mobilised to one of its tasks, whose approval the
    gate requires.
    """
    if not event.source.startswith(DECIDERS):
        raise InvalidRecord(
            "source: only a coordinator of the receiving province approves or declines what "
            "the national tier sends it")
    province = event.province_code
    row: dict[str, Any]
    if event.shipment_id is not None:
        shipment = target
        if shipment is None or shipment.get("tier") != "national":
            raise InvalidRecord(
                f"shipment_id: no national-tier shipment {event.shipment_id!r} to province "
                f"{province}")
        if shipment.get("status") != "proposed":
            raise InvalidRecord(
                f"shipment_id: shipment {event.shipment_id} is {shipment.get('status')}; only "
                "a proposed national-tier shipment is approved or declined")
        if shipment.get("approval") == "not_required":
            raise InvalidRecord(
                f"shipment_id: shipment {event.shipment_id} needs no approval (the gate is "
                "off: SIAGA_NATIONAL_APPROVAL)")
        row = {"gate": "shipment", "shipment_id": event.shipment_id,
               "shelter_id": str(shipment.get("shelter_id")),
               "item": str(shipment.get("item_id")),
               "need": float(shipment.get("need") or shipment.get("quantity") or 0)}
    else:
        covered = (target or {}).get("data")
        if not covered:
            raise InvalidRecord(
                f"task_id: the national tier mobilised no team {event.team_id!r} to task "
                f"{event.task_id!r} of province {province}")
        if covered.get("approval_required") is False:
            raise InvalidRecord(
                f"team_id: team {event.team_id} on task {event.task_id} needs no approval "
                "(the gate is off: SIAGA_NATIONAL_APPROVAL)")
        row = {"gate": "team", "task_id": str(event.task_id), "team_id": str(event.team_id),
               "need": float(covered.get("teams_needed") or 1)}
    key = decision_key(event)
    version = version_of(event.occurred_at, str(event.event_id))
    current = view.get(key)
    if current is not None and str(current.get("version", "")) >= version:
        return None
    row.update(decision=event.decision, reason=event.reason, coordinator=event.coordinator,
               at=event.occurred_at.isoformat(), version=version)
    view[key] = row
    return cast(GateRow, row)


# ---------------------------------------------------------------- what the planner reads


@dataclass(frozen=True)
class Gates:
    """A province's decisions on what the national tier sends it."""

    shipments: dict[str, GateRow] = field(default_factory=dict)  # shipment id → decision
    teams: dict[Pair, GateRow] = field(default_factory=dict)  # (task, team) → decision
    needs: dict[Pair, GateRow] = field(default_factory=dict)  # (shelter, item) → last decline
    tasks: dict[str, GateRow] = field(default_factory=dict)  # task → last decline

    def shipment_decision(self, shipment_id: str) -> str | None:
        row = self.shipments.get(shipment_id)
        return None if row is None else row["decision"]

    def team_decision(self, task_id: str, team_id: str) -> str | None:
        row = self.teams.get((task_id, team_id))
        return None if row is None else row["decision"]

    def need_decline(self, pair: Pair, need_now: float) -> GateRow | None:
        """The decline standing for a shelter's need of an item (None: none stands)."""
        row = self.needs.get(pair)
        if row is None or not decline_stands(float(row["need"]), max(0.0, need_now)):
            return None
        return row

    def task_decline(self, task_id: str, teams_needed: float) -> GateRow | None:
        """The decline standing for a task's mobilised teams (None: none stands)."""
        row = self.tasks.get(task_id)
        if row is None or not decline_stands(float(row["need"]), max(0.0, teams_needed)):
            return None
        return row

    def declined_teams(self, task_id: str) -> list[str]:
        return sorted(team for (task, team), row in self.teams.items()
                      if task == task_id and row["decision"] == "declined")

    def approved_teams(self, task_id: str) -> list[str]:
        return sorted(team for (task, team), row in self.teams.items()
                      if task == task_id and row["decision"] == "approved")


def read_gates(state: ProvinceState) -> Gates:
    """The gate rows of the province's ``overrides`` table, by what they decide on."""
    gates = Gates()
    for key, raw in sorted(state.overrides.items()):
        if not is_gate(key):
            continue
        row = cast(GateRow, raw)
        if row["gate"] == "shipment":
            gates.shipments[row.get("shipment_id", "")] = row
            if row["decision"] == "declined":
                pair = (row.get("shelter_id", ""), row.get("item", ""))
                _newest(gates.needs, pair, row)
        else:
            task = row.get("task_id", "")
            gates.teams[(task, row.get("team_id", ""))] = row
            if row["decision"] == "declined":
                _newest(gates.tasks, task, row)
    return gates


def _newest(into: dict[Any, GateRow], key: Any, row: GateRow) -> None:
    if key not in into or into[key]["version"] < row["version"]:
        into[key] = row


def dispatch_overrides(overrides: Mapping[str, Any]) -> Iterable[OverrideRow]:
    """The coordinators' dispatch overrides among the ``overrides`` rows (not the gate's)."""
    return [cast(OverrideRow, row) for key, row in overrides.items() if not is_gate(key)]


def shipment_approval(required: bool, decision: str | None) -> Approval:
    """A national-tier shipment's approval from whether the gate applies and the decision
    taken on it."""
    if not required:
        return "not_required"
    if decision == "approved":
        return "approved"
    if decision == "declined":
        return "declined"
    return "awaiting"


def as_decided(shipment: dict[str, Any], decision: Mapping[str, Any] | None) -> dict[str, Any]:
    """A national-tier shipment's row with the approval its coordinator's decision gives it,
    while the row still awaits one (the row learns the decision from the re-plan after it,
    and the re-plan writes its rows back only after the dashboard shows "approved": a
    warehouse confirming at once was refused by the worker as "awaiting")."""
    if decision is None or shipment.get("approval") != "awaiting":
        return shipment
    return {**shipment, "approval": shipment_approval(True, str(decision.get("decision")))}


def cleared(row: ShipmentRow) -> bool:
    """A proposed national-tier shipment that may be confirmed (approved, or no approval
    needed; a row from before the gate has none and counts as not needing one)."""
    return str(row.get("approval") or "not_required") in CLEARED


def team_approval(required: bool, decision: str | None) -> Approval:
    """A mobilised team's approval in the province it goes to."""
    return shipment_approval(required, decision)


def mobilised(state: ProvinceState) -> tuple[dict[str, MobilisedTeam], dict[str, MobilisedTeam]]:
    """The province's teams the national tier mobilised, by team: ``(cleared, awaiting)``.

    Cleared may go (approved by the receiving province, no approval needed, or already on
    the task loop for it: a team under way is not called back); awaiting ones are not
    dispatched — the team's phone shows no assignment — and stay free for the province's own
    tasks meanwhile.
    """
    cleared_: dict[str, MobilisedTeam] = {}
    awaiting: dict[str, MobilisedTeam] = {}
    for entry in state.national.get("mobilised_here", []):
        team_id = entry["team_id"]
        team = state.teams.get(team_id)
        under_way = bool(team and (team.get("progress") or {}).get(entry["task_id"]))
        if str(entry.get("approval") or "not_required") in CLEARED or under_way:
            cleared_[team_id] = entry
        else:
            awaiting[team_id] = entry
    return cleared_, awaiting
