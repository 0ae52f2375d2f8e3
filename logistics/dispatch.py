"""TAGANA dispatch: assign teams to tasks by minimum travel time, with tiered mobilisation.

Each task needs ``teams_needed`` teams, each holding all ``required_skills`` and at least
``min_rank``. A team is eligible for a task if it is available, qualified, the travel is finite,
and ``hours_on_duty + travel_hours + task.expected_hours <= fatigue_limit_hours``.
The fatigue limit defaults to 12 h — a policy assumption (a long field shift), not a sourced
Kemensos figure; pass the operation's own value.

Tiered mobilisation, like Kemensos (Permensos 28/2012, 29/2012): slots are first filled by teams
of the task's own kabupaten/kota, what is left by teams of the same province, then nationally.
Within each tier the assignment is an exact linear assignment problem (scipy's
``linear_sum_assignment``): first the most slots filled, then the least total travel hours.
Tiers decompose by kabupaten/province, so each solve is small. The tier used is recorded per
assignment and per task; slots no tier can fill are reported as uncovered (an outcome).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from logistics._serde import dt_from_str, dt_to_str, require_utc
from logistics.errors import InvalidInput, LogisticsError
from logistics.explain import explain_assignment

Rank = Literal["muda", "madya", "utama"]
RANKS: tuple[str, ...] = ("muda", "madya", "utama")
Tier = Literal["kabupaten", "province", "national"]
TIERS: tuple[Tier, ...] = ("kabupaten", "province", "national")
TASK_KINDS: tuple[str, ...] = (
    "evacuation", "public_kitchen", "shelter_setup", "psychosocial_support",
)
#: Kemensos target: a team on site within 1 hour (REFERENCE.md).
ON_SITE_TARGET_HOURS = 1.0
DEFAULT_FATIGUE_LIMIT_HOURS = 12.0


#: How long a dispatched team has to acknowledge before its assignment is dispatched again:
#: a policy assumption (a quarter of the 1-hour on-site target), not a sourced figure.
ACK_TIMEOUT_MINUTES = 15.0
#: The steps of an assignment a team reports, in order (``declined`` may come before done).
PROGRESS_STEPS: tuple[str, ...] = ("acknowledged", "en_route", "arrived", "done")


def hours_on_duty(reported: float, on_duty_since: datetime | None, now: datetime) -> float:
    """A team's hours on duty at ``now``: the time since its duty period began (its first
    acknowledged assignment since it last rested), never less than what it ``reported``.

    Raises InvalidInput for a naive time or negative reported hours.
    """
    if reported < 0:
        raise InvalidInput(f"hours on duty must be >= 0, got {reported}")
    now = require_utc(now, "now")
    if on_duty_since is None:
        return float(reported)
    since = require_utc(on_duty_since, "on_duty_since")
    return max(float(reported), max(0.0, (now - since).total_seconds() / 3600.0))


def assignment_status(
    progress: Mapping[str, Any] | None, dispatched_at: datetime | None, now: datetime,
    ack_timeout_minutes: float = ACK_TIMEOUT_MINUTES,
) -> str:
    """Where one team's assignment stands: its last reported step (``acknowledged`` …
    ``done``, ``declined``), ``dispatched`` while it waits for the team, or ``timed_out``
    when the team has not acknowledged within ``ack_timeout_minutes`` of ``dispatched_at``
    (then it is dispatched again, like a decline)."""
    status = (progress or {}).get("status")
    if status is not None:
        return str(status)
    if dispatched_at is not None:
        waited = (require_utc(now, "now") - require_utc(dispatched_at, "dispatched_at"))
        if waited.total_seconds() > ack_timeout_minutes * 60.0:
            return "timed_out"
    return "dispatched"


class UnknownTeam(LogisticsError, KeyError):
    """A team id is referenced but not known."""


class UnknownTask(LogisticsError, KeyError):
    """A task id is referenced but not known."""


@dataclass(frozen=True)
class Team:
    """A TAGANA team: where it is based, what it can do, rank, availability, hours on duty."""

    team_id: str
    kabupaten_code: str
    province_code: str
    skills: frozenset[str]
    rank: Rank = "muda"
    available: bool = True
    hours_on_duty: float = 0.0
    position: tuple[float, float] | None = None  # (lon, lat) WGS84, for display only

    def __post_init__(self) -> None:
        if self.rank not in RANKS:
            raise InvalidInput(f"team {self.team_id}: unknown rank {self.rank!r}")
        if self.hours_on_duty < 0:
            raise InvalidInput(f"team {self.team_id}: hours_on_duty < 0")
        object.__setattr__(self, "skills", frozenset(self.skills))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"team_id": self.team_id, "kabupaten_code": self.kabupaten_code,
                "province_code": self.province_code, "skills": sorted(self.skills),
                "rank": self.rank, "available": self.available,
                "hours_on_duty": self.hours_on_duty,
                "position": None if self.position is None else list(self.position)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Team:
        """Inverse of :meth:`to_dict`."""
        pos = d.get("position")
        return cls(team_id=str(d["team_id"]), kabupaten_code=str(d["kabupaten_code"]),
                   province_code=str(d["province_code"]), skills=frozenset(d["skills"]),
                   rank=d.get("rank", "muda"), available=bool(d.get("available", True)),
                   hours_on_duty=float(d.get("hours_on_duty", 0.0)),
                   position=None if pos is None else (float(pos[0]), float(pos[1])))


@dataclass(frozen=True)
class Task:
    """Work for TAGANA teams at an incident or shelter (``concerns_id``)."""

    task_id: str
    kind: str
    concerns_id: str
    kabupaten_code: str
    province_code: str
    required_skills: frozenset[str] = field(default_factory=frozenset)
    teams_needed: int = 1
    expected_hours: float = 4.0
    min_rank: Rank = "muda"

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise InvalidInput(f"task {self.task_id}: unknown kind {self.kind!r}")
        if self.teams_needed < 1:
            raise InvalidInput(f"task {self.task_id}: teams_needed must be >= 1")
        if self.min_rank not in RANKS:
            raise InvalidInput(f"task {self.task_id}: unknown rank {self.min_rank!r}")
        object.__setattr__(self, "required_skills", frozenset(self.required_skills))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"task_id": self.task_id, "kind": self.kind, "concerns_id": self.concerns_id,
                "kabupaten_code": self.kabupaten_code, "province_code": self.province_code,
                "required_skills": sorted(self.required_skills),
                "teams_needed": self.teams_needed, "expected_hours": self.expected_hours,
                "min_rank": self.min_rank}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Task:
        """Inverse of :meth:`to_dict`."""
        return cls(task_id=str(d["task_id"]), kind=str(d["kind"]),
                   concerns_id=str(d["concerns_id"]), kabupaten_code=str(d["kabupaten_code"]),
                   province_code=str(d["province_code"]),
                   required_skills=frozenset(d.get("required_skills", ())),
                   teams_needed=int(d.get("teams_needed", 1)),
                   expected_hours=float(d.get("expected_hours", 4.0)),
                   min_rank=d.get("min_rank", "muda"))


@dataclass(frozen=True)
class TeamTravelHours:
    """Travel hours from each team's position to each task's site (from ``geo``); inf =
    unreachable."""

    team_ids: tuple[str, ...]
    task_ids: tuple[str, ...]
    hours: npt.NDArray[np.float64]

    def __post_init__(self) -> None:
        h = np.asarray(self.hours, dtype=np.float64)
        if h.shape != (len(self.team_ids), len(self.task_ids)):
            raise InvalidInput(f"team travel shape {h.shape} != "
                               f"({len(self.team_ids)}, {len(self.task_ids)})")
        if np.isnan(h).any() or (h < 0).any():
            raise InvalidInput("team travel hours must be >= 0 (inf = unreachable)")
        object.__setattr__(self, "hours", h)


@dataclass(frozen=True)
class Assignment:
    """One team sent to one task."""

    assignment_id: str
    dispatch_id: str
    task_id: str
    team_id: str
    tier: Tier
    travel_hours: float
    within_target: bool
    explanation: str
    #: The explanation as data (``{"rule": "team_assigned", "figures", "text"}``,
    #: :func:`logistics.explain.explain_assignment`), rendered in the reader's language.
    why: Mapping[str, Any] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"assignment_id": self.assignment_id, "dispatch_id": self.dispatch_id,
                "task_id": self.task_id, "team_id": self.team_id, "tier": self.tier,
                "travel_hours": self.travel_hours, "within_target": self.within_target,
                "explanation": self.explanation,
                "why": None if self.why is None else dict(self.why)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Assignment:
        """Inverse of :meth:`to_dict` (an assignment stored before ``why`` has none)."""
        why = d.get("why")
        return cls(assignment_id=str(d["assignment_id"]), dispatch_id=str(d["dispatch_id"]),
                   task_id=str(d["task_id"]), team_id=str(d["team_id"]), tier=d["tier"],
                   travel_hours=float(d["travel_hours"]),
                   within_target=bool(d["within_target"]), explanation=str(d["explanation"]),
                   why=dict(why) if isinstance(why, Mapping) else None)


@dataclass(frozen=True)
class UncoveredTask:
    """A task no tier could fully staff (an outcome the coordinator must see)."""

    task_id: str
    teams_needed: int
    teams_assigned: int
    eligible_teams: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"task_id": self.task_id, "teams_needed": self.teams_needed,
                "teams_assigned": self.teams_assigned, "eligible_teams": self.eligible_teams,
                "reason": self.reason}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> UncoveredTask:
        """Inverse of :meth:`to_dict`."""
        return cls(task_id=str(d["task_id"]), teams_needed=int(d["teams_needed"]),
                   teams_assigned=int(d["teams_assigned"]),
                   eligible_teams=int(d["eligible_teams"]), reason=str(d["reason"]))


@dataclass(frozen=True)
class DispatchPlan:
    """Assignments, the tier each task needed, and uncovered tasks."""

    dispatch_id: str
    planned_at: datetime
    fatigue_limit_hours: float
    assignments: tuple[Assignment, ...]
    task_tiers: Mapping[str, Tier]
    uncovered: tuple[UncoveredTask, ...]

    @property
    def total_travel_hours(self) -> float:
        """Sum of travel hours over assignments."""
        return sum(a.travel_hours for a in self.assignments)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return {"dispatch_id": self.dispatch_id, "planned_at": dt_to_str(self.planned_at),
                "fatigue_limit_hours": self.fatigue_limit_hours,
                "assignments": [a.to_dict() for a in self.assignments],
                "task_tiers": dict(sorted(self.task_tiers.items())),
                "uncovered": [u.to_dict() for u in self.uncovered]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DispatchPlan:
        """Inverse of :meth:`to_dict`."""
        return cls(dispatch_id=str(d["dispatch_id"]), planned_at=dt_from_str(d["planned_at"]),
                   fatigue_limit_hours=float(d["fatigue_limit_hours"]),
                   assignments=tuple(Assignment.from_dict(a) for a in d["assignments"]),
                   task_tiers=dict(d["task_tiers"]),
                   uncovered=tuple(UncoveredTask.from_dict(u) for u in d["uncovered"]))


def eligibility(
    teams: Sequence[Team], tasks: Sequence[Task], hours: npt.NDArray[np.float64],
    fatigue_limit_hours: float,
) -> npt.NDArray[np.bool_]:
    """Boolean (teams x tasks) matrix: available, all skills, rank, finite travel, fatigue."""
    skills = sorted({s for t in tasks for s in t.required_skills})
    bit = {s: 1 << i for i, s in enumerate(skills)}
    if len(skills) > 62:
        raise InvalidInput("more than 62 distinct required skills")
    team_bits = np.array([sum(bit[s] for s in tm.skills if s in bit) for tm in teams],
                         dtype=np.int64)
    task_bits = np.array([sum(bit[s] for s in t.required_skills) for t in tasks], dtype=np.int64)
    team_rank = np.array([RANKS.index(tm.rank) for tm in teams])
    task_rank = np.array([RANKS.index(t.min_rank) for t in tasks])
    avail = np.array([tm.available for tm in teams], dtype=bool)
    duty = np.array([tm.hours_on_duty for tm in teams], dtype=np.float64)
    expected = np.array([t.expected_hours for t in tasks], dtype=np.float64)
    ok = (team_bits[:, None] & task_bits[None, :]) == task_bits[None, :]
    ok &= team_rank[:, None] >= task_rank[None, :]
    ok &= avail[:, None]
    ok &= np.isfinite(hours)
    ok &= duty[:, None] + hours + expected[None, :] <= fatigue_limit_hours
    return np.asarray(ok, dtype=np.bool_)


def dispatch(
    dispatch_id: str,
    planned_at: datetime,
    teams: Sequence[Team],
    tasks: Sequence[Task],
    travel: TeamTravelHours,
    fatigue_limit_hours: float = DEFAULT_FATIGUE_LIMIT_HOURS,
) -> DispatchPlan:
    """Assign TAGANA teams to tasks, lowest mobilisation tier first, minimum travel hours.

    Args:
        dispatch_id: id of this dispatch (assignment ids derive from it).
        planned_at: UTC time of the decision.
        teams, tasks: candidates and work; ids must be unique.
        travel: hours team -> task site (rows/columns may be in any order).
        fatigue_limit_hours: max hours on duty + travel + expected task hours.

    Raises:
        InvalidInput: duplicate ids or bad limit. UnknownTeam / UnknownTask: a team or task
        missing from ``travel``.
    """
    planned_at = require_utc(planned_at, "planned_at")
    if not fatigue_limit_hours > 0:
        raise InvalidInput(f"fatigue_limit_hours must be > 0, got {fatigue_limit_hours}")
    teams_s = sorted(teams, key=lambda t: t.team_id)
    tasks_s = sorted(tasks, key=lambda t: t.task_id)
    if len({t.team_id for t in teams_s}) != len(teams_s):
        raise InvalidInput("duplicate team id")
    if len({t.task_id for t in tasks_s}) != len(tasks_s):
        raise InvalidInput("duplicate task id")
    r_idx = {tid: i for i, tid in enumerate(travel.team_ids)}
    c_idx = {tid: j for j, tid in enumerate(travel.task_ids)}
    try:
        rows = np.array([r_idx[t.team_id] for t in teams_s], dtype=np.int64)
    except KeyError as e:
        raise UnknownTeam(f"no travel hours for team {e.args[0]!r}") from None
    try:
        cols = np.array([c_idx[t.task_id] for t in tasks_s], dtype=np.int64)
    except KeyError as e:
        raise UnknownTask(f"no travel hours for task {e.args[0]!r}") from None
    hours = travel.hours[np.ix_(rows, cols)] if teams_s and tasks_s else \
        np.zeros((len(teams_s), len(tasks_s)))
    elig = eligibility(teams_s, tasks_s, hours, fatigue_limit_hours)

    team_kab = np.array([t.kabupaten_code for t in teams_s], dtype=object)
    team_prov = np.array([t.province_code for t in teams_s], dtype=object)
    slot_task = np.repeat(np.arange(len(tasks_s)), [t.teams_needed for t in tasks_s])
    slot_free = np.ones(slot_task.shape[0], dtype=bool)
    team_free = np.ones(len(teams_s), dtype=bool)
    pairs: list[tuple[int, int, Tier]] = []  # (slot, team, tier)

    def solve_group(slots: npt.NDArray[np.int64], tms: npt.NDArray[np.int64], tier: Tier) -> None:
        if slots.size == 0 or tms.size == 0:
            return
        sub_ok = elig[np.ix_(tms, slot_task[slots])].T  # slots x teams
        keep_t = sub_ok.any(axis=0)
        keep_s = sub_ok.any(axis=1)
        if not keep_t.any():
            return
        slots, tms, sub_ok = slots[keep_s], tms[keep_t], sub_ok[np.ix_(keep_s, keep_t)]
        cost = hours[np.ix_(tms, slot_task[slots])].T
        finite_max = float(cost[sub_ok].max()) if sub_ok.any() else 0.0
        # infeasible pairs cost more than any full feasible assignment: most slots filled first
        big = (finite_max + 1.0) * (min(cost.shape) + 1)
        cost = np.where(sub_ok, cost, big)
        r, c = linear_sum_assignment(cost)
        for i, j in zip(r.tolist(), c.tolist(), strict=True):
            if sub_ok[i, j]:
                pairs.append((int(slots[i]), int(tms[j]), tier))
                slot_free[slots[i]] = False
                team_free[tms[j]] = False

    task_kab = np.array([t.kabupaten_code for t in tasks_s], dtype=object)
    task_prov = np.array([t.province_code for t in tasks_s], dtype=object)
    for tier in TIERS:
        open_slots = np.nonzero(slot_free)[0]
        if open_slots.size == 0:
            break
        if tier == "national":
            solve_group(open_slots, np.nonzero(team_free)[0], tier)
            continue
        s_key = (task_kab if tier == "kabupaten" else task_prov)[slot_task[open_slots]]
        t_key = team_kab if tier == "kabupaten" else team_prov
        for key in sorted(set(s_key.tolist())):
            grp_slots = open_slots[s_key == key]
            grp_teams = np.nonzero(team_free & (t_key == key))[0]
            solve_group(grp_slots, grp_teams, tier)

    assignments: list[Assignment] = []
    task_tier: dict[str, Tier] = {}
    filled = np.zeros(len(tasks_s), dtype=np.int64)
    for slot, tm, tier in sorted(pairs, key=lambda x: (tasks_s[slot_task[x[0]]].task_id,
                                                      teams_s[x[1]].team_id)):
        ti = int(slot_task[slot])
        task, team = tasks_s[ti], teams_s[tm]
        h = float(hours[tm, ti])
        filled[ti] += 1
        prev = task_tier.get(task.task_id)
        if prev is None or TIERS.index(tier) > TIERS.index(prev):
            task_tier[task.task_id] = tier
        why = explain_assignment(
            team_id=team.team_id, rank=team.rank, kabupaten_code=team.kabupaten_code,
            task_id=task.task_id, task_kind=task.kind, target_id=task.concerns_id,
            travel_hours=h, hours_on_duty=team.hours_on_duty, task_hours=task.expected_hours,
            fatigue_limit_hours=fatigue_limit_hours, tier=tier,
            on_site_target_hours=ON_SITE_TARGET_HOURS)
        assignments.append(Assignment(
            assignment_id=f"{dispatch_id}:{task.task_id}:{team.team_id}",
            dispatch_id=dispatch_id, task_id=task.task_id, team_id=team.team_id, tier=tier,
            travel_hours=h, within_target=h <= ON_SITE_TARGET_HOURS,
            explanation=str(why["text"]), why=why,
        ))
    uncovered = []
    n_elig = elig.sum(axis=0)
    for ti, task in enumerate(tasks_s):
        if filled[ti] < task.teams_needed:
            reason = ("no eligible team (skills, rank, availability or fatigue)"
                      if n_elig[ti] == 0 else
                      "eligible teams all assigned to other tasks")
            uncovered.append(UncoveredTask(task.task_id, task.teams_needed, int(filled[ti]),
                                           int(n_elig[ti]), reason))
    return DispatchPlan(dispatch_id=dispatch_id, planned_at=planned_at,
                        fatigue_limit_hours=fatigue_limit_hours,
                        assignments=tuple(assignments), task_tiers=task_tier,
                        uncovered=tuple(uncovered))
