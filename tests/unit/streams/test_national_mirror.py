"""The national tier's planning process keeps the national table's rows (streams/planpool.py).

Like a province's planning process, the national tier's child is sent every row once, then
only the rows written or removed since its last plan, and applies its plan's own writes to
its copy as the worker writes them back. Checked here over the golden cases: each
province plan's escalations folded into the national table as the national agent folds them
(streams/national.py), and after each, the national plan made from the kept copy and a
change set compared with the plan made from every row.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from streams import planpool
from streams.national import ESC, UNPLANNED
from streams.planpool import MirrorMissing, apply_rows, national_mirrored, national_slim
from tests.unit.streams import golden_planning
from tests.unit.streams.golden_planning import CASES, run_events

TOKENS = itertools.count(1)


def fold(rows: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """Escalation records into the national table's rows, as the national agent does."""
    for rec in records:
        key = f"{ESC}|{rec['province_code']}|{rec['kind']}|{rec['id']}"
        current = rows.get(key)
        if current is not None and int(current["seq"]) > int(rec["seq"]):
            continue
        if rec["data"] is None:
            rows.pop(key, None)
        else:
            rows[key] = {"seq": int(rec["seq"]), "planned_at": rec["planned_at"],
                         "data": rec["data"]}
    rows[UNPLANNED] = {"since": 0.0}


def changes(sent: dict[str, Any], now: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    keys = {k for k in sent.keys() | now.keys() if sent.get(k) != now.get(k)}
    return ({k: now[k] for k in keys if k in now}, sorted(k for k in keys if k not in now))


def escalations_of(case: str, monkeypatch: pytest.MonkeyPatch) -> list[list[dict[str, Any]]]:
    """The escalation records of every province plan of a golden case, in order."""
    out: list[list[dict[str, Any]]] = []
    real = golden_planning.province_writes

    def capture(loaded: Any, outcome: Any) -> Any:
        writes = real(loaded, outcome)
        out.append(copy.deepcopy(list(writes.escalation)))
        return writes

    monkeypatch.setattr(golden_planning, "province_writes", capture)
    run_events(case, CASES[case]())
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_national_plan_from_the_kept_copy_is_the_plan_from_every_row(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(planpool, "_NATIONAL", {})
    plans = escalations_of(case, monkeypatch)
    assert plans and any(plans), "the case escalates nothing"
    rows: dict[str, Any] = {}
    token: int | None = None
    sent: dict[str, Any] = {}
    delta_sizes = []
    for records in plans:
        fold(rows, records)
        new = next(TOKENS)
        if token is None:
            mirrored = national_mirrored(None, new, copy.deepcopy(rows), None, True)
        else:
            delta = copy.deepcopy(changes(sent, rows))
            delta_sizes.append((len(delta[0]) + len(delta[1]), len(rows)))
            mirrored = national_mirrored(token, new, None, delta, True)
        fresh = national_slim(copy.deepcopy(rows), True)
        assert mirrored.writes == fresh.writes
        assert mirrored.sends == fresh.sends
        assert mirrored.provinces == fresh.provinces
        # the worker writes the plan back and clears the flag; the child's copy is that,
        # but for the flag (the worker sends its removal with the next change set)
        apply_rows(rows, fresh.writes)
        held_token, held = planpool._NATIONAL["rows"]
        assert held_token == new and held == rows
        rows.pop(UNPLANNED)
        token, sent = new, copy.deepcopy(held)
    # re-plans were made from change sets smaller than the table
    assert delta_sizes and all(size < total for size, total in delta_sizes)


def test_a_change_set_against_another_copy_is_refused_and_the_copy_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(planpool, "_NATIONAL", {})
    national_mirrored(None, 7, {}, None, True)
    with pytest.raises(MirrorMissing):
        national_mirrored(6, 8, None, ({}, []), True)
    assert "rows" not in planpool._NATIONAL  # the next call must send every row
    with pytest.raises(MirrorMissing):
        national_mirrored(7, 9, None, ({}, []), True)
