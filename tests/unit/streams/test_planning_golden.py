"""The province planner gives, hash for hash, what it gave when these were recorded.

Three replayed disasters and a synthetic province of 300 shelters (kitchens, teams on the
phone loop, a regional store, a Lumbung Sosial, a batch near expiry) are folded through the
worker's routing tables, planned, sent through the national tier, moved on (headcounts,
shipments, team progress, overrides, a served meal, a decision) and re-planned
(:mod:`tests.unit.streams.golden_planning`). A refactoring of ``streams/planning`` must keep
every hash; a change meant to change plans records new ones
(``python -m tests.unit.streams.golden_planning``) and says why in its commit.
"""

from __future__ import annotations

import pytest

from siaga import events as ev
from tests.unit.streams.golden_planning import CASES, run_events, scenario_events

# Recorded from the planner at 56fbcf3 (before streams/planning.py was split); re-recorded
# when a kitchen's ingredients began to carry their source in Bahasa Indonesia
# (``source_id``): the kitchen views changed, and with them the plan row (which keeps the hash
# of every view it projected), the writes and the folded rows; shipments, events and
# escalation are the same. Re-recorded for the approval gate on the national tier: national
# shipments carry the receiving province's approval (and await it), awaiting ones cover no
# shortfall, mobilised teams are dispatched only once approved and carry why they were sent,
# the national tier trims a task's standing teams to what it lacks, spare teams go up with
# their names; the harness now approves, declines and confirms national shipments (plans
# 3 and 4). Re-recorded when each shelter's need rows began to carry how the need was worked
# out (``why``, rule ``need_from_headcount``): the shelter views changed, and with them the
# plan row (which keeps every view's hash); shipments, events, escalations and writes are the
# same. Re-recorded when a kitchen's capacity shortfall began to name its rule under ``why``
# (was ``reason``): its view changed, with it the detected event that carries the view, the
# plan row's hashes and the projected hashes written (cases with kitchens only). And when a
# proposal to open a kitchen began to say the meals a day its people count rests on
# (``meals_per_person_per_day`` in its figures, from the needs profile: 3, as the constant it
# replaces): the proposals' views changed. And when a kept (stable) plan's shortfalls began
# to state the item's whole eligible stock within reach, without a trade-off priced on the
# top-up's leftovers (logistics/replan.py): the shortfall views changed (Cianjur's re-plans),
# with them the plan row's hashes and the writes; shipments, events and escalations are the
# same.
# Re-recorded when view and escalation hashes began to be computed with orjson
# (streams/changes.py content_hash): the hashes the plan row keeps and writes changed, nothing
# the planner decides or shows.
# Re-recorded when shipment and shortfall views stopped repeating their English sentence
# inside ``why`` (``why.text``; the view's ``explanation`` keeps it): the views and the view
# hashes the plan row keeps changed, nothing the planner decides.
# Re-recorded when a kept (stable) plan's shortfalls began to state the shelter's whole need
# (``need_quantity`` = the shortfall's ``need`` = covered + missing; it was what the top-up saw
# after the kept proposals): the shortfall views changed, nothing the planner decides.
EXPECTED: dict[str, dict[str, str]] = {
    "cianjur-2022/32/1": {
        "entities": "2de56123993ba35b",
        "escalation": "3bdf2d18cdfd931a",
        "events": "fb7f5e26f875ebe4",
        "plan": "6fbb24fd79ac0058",
        "shipments": "862de650e94413b3",
        "writes": "089c8f1d7cee3e3d"
    },
    "cianjur-2022/32/2": {
        "entities": "0e6c02f3eb01cd41",
        "escalation": "c4a1b5bd83e78f63",
        "events": "a184ae9908611ccd",
        "plan": "77ad66e7523fa845",
        "shipments": "daf50eedeca90592",
        "writes": "069cff7d8511e464"
    },
    "cianjur-2022/32/3": {
        "entities": "e05de50923ebf654",
        "escalation": "93a0259e08c5f142",
        "events": "30cad60b228aee6b",
        "plan": "6bc701fa7cfcb996",
        "shipments": "583a7491ba8fd5bb",
        "writes": "ac6df7f4dddf3be9"
    },
    "cianjur-2022/32/4": {
        "entities": "c9e9ffc30f3b5e50",
        "escalation": "1ec57e63ab600107",
        "events": "4f53cda18c2baa0c",
        "plan": "35f92302d2ec4b27",
        "shipments": "0f09d86842ec5c82",
        "writes": "53e1c818c2e9736c"
    },
    "cianjur-2022/32/inputs": {
        "parked": "6d284156f5d3979f",
        "rows": "b9fedbbaab0c351c"
    },
    "palu-2018/32/1": {
        "entities": "438b502e917e748e",
        "escalation": "982371e930544846",
        "events": "4f53cda18c2baa0c",
        "plan": "ededbd0a131cc8be",
        "shipments": "44136fa355b3678a",
        "writes": "6144ba0fc8d0f6a0"
    },
    "palu-2018/32/2": {
        "entities": "86fb0cd57097fe62",
        "escalation": "75bcaa754922fae4",
        "events": "4f53cda18c2baa0c",
        "plan": "407c2a5906d7ac55",
        "shipments": "44136fa355b3678a",
        "writes": "ea2c2f51f2ec7c0a"
    },
    "palu-2018/32/inputs": {
        "parked": "4f53cda18c2baa0c",
        "rows": "5516176b04a4c646"
    },
    "palu-2018/72/1": {
        "entities": "47abd547ae075c90",
        "escalation": "516166b0da3a1507",
        "events": "7489db71e5907b44",
        "plan": "58550616188820d6",
        "shipments": "9d667f78fb7a8d36",
        "writes": "e4bc6492490e17f4"
    },
    "palu-2018/72/2": {
        "entities": "da11b7db5b112150",
        "escalation": "9c353944887f2e27",
        "events": "d7fca46ac4620d7f",
        "plan": "e2368add1c8c6a6e",
        "shipments": "ebaa079ab0422088",
        "writes": "a8c4d78828769acf"
    },
    "palu-2018/72/3": {
        "entities": "2b2f17176d6dadf0",
        "escalation": "e0c0832cb599c784",
        "events": "b8b6416026b51e31",
        "plan": "806ab2c4606d4367",
        "shipments": "316bf05944790150",
        "writes": "3288571ef8f65709"
    },
    "palu-2018/72/4": {
        "entities": "f816514dd8872c20",
        "escalation": "0411876976c4b6d2",
        "events": "4f53cda18c2baa0c",
        "plan": "f0eb9df9050439c6",
        "shipments": "11200ccd27c6996f",
        "writes": "a73045575cf06571"
    },
    "palu-2018/72/inputs": {
        "parked": "cfd301d533c3fd28",
        "rows": "ce8c9bc05f8871f9"
    },
    "palu-2018/73/1": {
        "entities": "a0b0513fd493c54f",
        "escalation": "3c85d3a3abc92682",
        "events": "4f53cda18c2baa0c",
        "plan": "2b86315617ce0ec0",
        "shipments": "44136fa355b3678a",
        "writes": "81ccd25abb0de5e1"
    },
    "palu-2018/73/2": {
        "entities": "49fcd4dc0c8af0ae",
        "escalation": "ee9dde604011daff",
        "events": "4f53cda18c2baa0c",
        "plan": "acdcaab5d1d7b697",
        "shipments": "44136fa355b3678a",
        "writes": "9d36e0809ba3b952"
    },
    "palu-2018/73/inputs": {
        "parked": "4f53cda18c2baa0c",
        "rows": "b510568066fa76a9"
    },
    "semeru-2021/32/1": {
        "entities": "454ae8cfbae48dcc",
        "escalation": "13ea6dab02af226f",
        "events": "4f53cda18c2baa0c",
        "plan": "de5111426f0e6fd3",
        "shipments": "44136fa355b3678a",
        "writes": "c18f1439fb6f7000"
    },
    "semeru-2021/32/2": {
        "entities": "8bb5b8dad821c645",
        "escalation": "55871c8832d6c39e",
        "events": "4f53cda18c2baa0c",
        "plan": "c82e459ce9a1ec46",
        "shipments": "44136fa355b3678a",
        "writes": "6ca3915859cb01ff"
    },
    "semeru-2021/32/inputs": {
        "parked": "4f53cda18c2baa0c",
        "rows": "bffc69cccd2e1ce2"
    },
    "semeru-2021/35/1": {
        "entities": "4738894bff4bf32e",
        "escalation": "af5b1e28938cbce0",
        "events": "5c4683827b3f8c90",
        "plan": "f5ec87b5cb1b0ee4",
        "shipments": "29554dcbd003fb49",
        "writes": "e4fd64aca5afde17"
    },
    "semeru-2021/35/2": {
        "entities": "f70d4a25655d3c98",
        "escalation": "442796061c1dace4",
        "events": "78e4b6cc66a7bab8",
        "plan": "b8ae58cf6d97dc73",
        "shipments": "f13fcfdd8c53becb",
        "writes": "32daf34aa2169d51"
    },
    "semeru-2021/35/3": {
        "entities": "e06753d2c5be4b1c",
        "escalation": "806fcf37575e0aa4",
        "events": "0db34382a0dc157c",
        "plan": "5cd1b56081ce7493",
        "shipments": "c651142aff32fdc5",
        "writes": "c2003b8bfaa81d5f"
    },
    "semeru-2021/35/4": {
        "entities": "c44375694ffa96f8",
        "escalation": "ace513a5dab5e1fa",
        "events": "477cba97bccaeff1",
        "plan": "5e1aa541ac8d733d",
        "shipments": "b01a4bd6b14d690d",
        "writes": "b92141e2bf2b3c8f"
    },
    "semeru-2021/35/inputs": {
        "parked": "70e0676b46c5c392",
        "rows": "63a758775f8b0164"
    },
    "synthetic/33/1": {
        "entities": "ec9c04511f3d2762",
        "escalation": "563ddbbc941b4b09",
        "events": "b7519fbcb8e51bc6",
        "plan": "250cb6d50d58327d",
        "shipments": "5cdcb041b350cc3a",
        "writes": "26a8fef76a0d3050"
    },
    "synthetic/33/2": {
        "entities": "2a57864c71df0fef",
        "escalation": "55af6bdf0beaa2ae",
        "events": "ee2dbdadb4c4c4fd",
        "plan": "6152f836e500085e",
        "shipments": "a4900285f958afdf",
        "writes": "7fc834b658d0d8fa"
    },
    "synthetic/33/3": {
        "entities": "09d35c21af772932",
        "escalation": "4ab8e021790546df",
        "events": "f542ca9cd8cc0dc8",
        "plan": "4baae396a449d037",
        "shipments": "5fa4f8f6e5b608e5",
        "writes": "b33b88d9068dafdb"
    },
    "synthetic/33/4": {
        "entities": "fd141a7611101cc6",
        "escalation": "54f550337dba4634",
        "events": "68330de6e3a27d22",
        "plan": "fe16a4217621ec54",
        "shipments": "9b3a76744c6ff25b",
        "writes": "d500ce695902ba3b"
    },
    "synthetic/33/inputs": {
        "parked": "1fca123b30f63f2a",
        "rows": "bed76c418381e5d1"
    }
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_plans_are_unchanged_hash_for_hash(case: str) -> None:
    got = run_events(case, CASES[case]())
    expected = {k: v for k, v in EXPECTED.items() if k.split("/", 1)[0] == case}
    assert set(got) == set(expected)
    differ = {f"{key}:{part}" for key, parts in expected.items() for part, value in parts.items()
              if got[key].get(part) != value}
    assert not differ, f"the planner's output changed: {sorted(differ)}"


def test_one_person_more_in_one_shelter_changes_the_hashes() -> None:
    """The harness can fail: one figure of the input moves the plan's hashes."""
    events = scenario_events("semeru-2021")
    # the newest count of a shelter (an older one is superseded anyway)
    n = max(i for i, e in enumerate(events) if isinstance(e, ev.ShelterHeadcountReported))
    events[n] = events[n].model_copy(update={"total": events[n].total + 1})
    got = run_events("semeru-2021", events)
    assert got["semeru-2021/35/1"]["entities"] != EXPECTED["semeru-2021/35/1"]["entities"]
    assert got["semeru-2021/35/1"]["plan"] != EXPECTED["semeru-2021/35/1"]["plan"]
