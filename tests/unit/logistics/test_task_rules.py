"""Task rules (logistics.tasks): which tasks an incident or a shelter calls for."""

from __future__ import annotations

from logistics.tasks import incident_tasks, shelter_tasks


def test_evacuation_teams_grow_with_the_displaced_and_stop_at_five() -> None:
    assert incident_tasks("i", 4, 1, 0, "32.03", "32")[0].teams_needed == 1
    assert incident_tasks("i", 4, 4001, 0, "32.03", "32")[0].teams_needed == 3
    assert incident_tasks("i", 4, 50_000, 0, "32.03", "32")[0].teams_needed == 5


def test_a_minor_incident_or_one_without_people_calls_for_no_evacuation() -> None:
    assert incident_tasks("i", 2, 5000, 0, "32.03", "32") == []
    assert incident_tasks("i", 5, 0, 0, "32.03", "32") == []


def test_a_shelter_gets_kitchen_setup_and_psychosocial_support_by_its_people() -> None:
    kinds = {t.kind: t.teams_needed for t in shelter_tasks("s", 2500, 60, "32.03", "32")}
    assert kinds == {"public_kitchen": 3, "shelter_setup": 1, "psychosocial_support": 1}
    kinds = {t.kind: t.teams_needed for t in shelter_tasks("s", 300, 49, "32.03", "32")}
    assert kinds == {"public_kitchen": 1, "shelter_setup": 1}
    assert shelter_tasks("s", 0, 0, "32.03", "32") == []
