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
# escalation are the same.
EXPECTED: dict[str, dict[str, str]] = {
    "cianjur-2022/32/1": {
        "entities": "12e6119687430dd8",
        "escalation": "091a3acd422f309d",
        "events": "e0ced8af88181b12",
        "plan": "a069f14b00ca3609",
        "shipments": "862de650e94413b3",
        "writes": "1e496907243f796a"
    },
    "cianjur-2022/32/2": {
        "entities": "f785a21662b9e7bd",
        "escalation": "522fafc4f911891c",
        "events": "c85a08c5aa620202",
        "plan": "461de3b996d6719e",
        "shipments": "4a79591427a8d523",
        "writes": "908d0c81103ab862"
    },
    "cianjur-2022/32/3": {
        "entities": "a930b4b115f3e043",
        "escalation": "77a9b217b9bfd368",
        "events": "1b8bdf47a57f5a13",
        "plan": "d694d14cbd793bbe",
        "shipments": "1b532fa963113aef",
        "writes": "c83267f430f1cb66"
    },
    "cianjur-2022/32/inputs": {
        "parked": "4f53cda18c2baa0c",
        "rows": "112bbd73cb8cfa8f"
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
        "entities": "0de8e4c2b3185de5",
        "escalation": "d2ef6e57f6e207ba",
        "events": "642119ef824a328b",
        "plan": "5eaad17d58032c9a",
        "shipments": "9d667f78fb7a8d36",
        "writes": "7365df5e5408b338"
    },
    "palu-2018/72/2": {
        "entities": "d393ea3d6d1c8a6e",
        "escalation": "7ef310036986208e",
        "events": "7371c90b95d89b6c",
        "plan": "984a9ed47aa45315",
        "shipments": "a27512b3a0ff855a",
        "writes": "f1b08aeb6e3fc454"
    },
    "palu-2018/72/3": {
        "entities": "492437742e20efdf",
        "escalation": "3473531141444411",
        "events": "920366359afa970a",
        "plan": "b1475647610f74dc",
        "shipments": "22f55f62d6464c85",
        "writes": "63495a84eebfa893"
    },
    "palu-2018/72/inputs": {
        "parked": "4f53cda18c2baa0c",
        "rows": "afdb7661eafe8912"
    },
    "palu-2018/73/1": {
        "entities": "a0b0513fd493c54f",
        "escalation": "00d283074cd941a6",
        "events": "4f53cda18c2baa0c",
        "plan": "2b86315617ce0ec0",
        "shipments": "44136fa355b3678a",
        "writes": "52b61c65d8a44cff"
    },
    "palu-2018/73/2": {
        "entities": "49fcd4dc0c8af0ae",
        "escalation": "d9af36f53c2034d9",
        "events": "4f53cda18c2baa0c",
        "plan": "acdcaab5d1d7b697",
        "shipments": "44136fa355b3678a",
        "writes": "9d36e0809ba3b952"
    },
    "palu-2018/73/inputs": {
        "parked": "4f53cda18c2baa0c",
        "rows": "83f623c5a5f01d61"
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
        "entities": "a13e77359e909d24",
        "escalation": "af5b1e28938cbce0",
        "events": "932d03345950c82e",
        "plan": "2204ce38dd7aae9e",
        "shipments": "29554dcbd003fb49",
        "writes": "3e2dc2f1ccc4432c"
    },
    "semeru-2021/35/2": {
        "entities": "4464a6bb78c930d7",
        "escalation": "442796061c1dace4",
        "events": "5d9fef8dc495e61d",
        "plan": "748c2d456e09bbbd",
        "shipments": "ee71906adf44e194",
        "writes": "0073e708c0a79c6e"
    },
    "semeru-2021/35/3": {
        "entities": "659549f243280cd0",
        "escalation": "74bcb1c14bcafe88",
        "events": "477cba97bccaeff1",
        "plan": "6109150004f2a006",
        "shipments": "1aa2174f27a06c57",
        "writes": "40cfc1ee167d488c"
    },
    "semeru-2021/35/inputs": {
        "parked": "4f53cda18c2baa0c",
        "rows": "39e3bc145e7f94fc"
    },
    "synthetic/33/1": {
        "entities": "b91b6a1fd1d3c9fd",
        "escalation": "fc9cbe3e125612d3",
        "events": "21045aa416e04bcf",
        "plan": "d1dc0d2e47af24de",
        "shipments": "5cdcb041b350cc3a",
        "writes": "c3c54ee3034aab2c"
    },
    "synthetic/33/2": {
        "entities": "a523f7adc1e04a28",
        "escalation": "ad6acd15843e8350",
        "events": "28abc24333c88c06",
        "plan": "6214ac5bf4ccb01a",
        "shipments": "da21a489ea747fa5",
        "writes": "71cb1722235cfa9b"
    },
    "synthetic/33/3": {
        "entities": "ca4e6172ec008b7b",
        "escalation": "0c3e0aedb18fcd88",
        "events": "68330de6e3a27d22",
        "plan": "cfb84f64087b947c",
        "shipments": "a521b09279a3ca91",
        "writes": "129cb82993d7a95f"
    },
    "synthetic/33/inputs": {
        "parked": "4f53cda18c2baa0c",
        "rows": "d9c8b92bc993849c"
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
