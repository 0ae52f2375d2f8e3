"""Task rules: which TAGANA tasks an incident or a shelter calls for, and how many teams.

Assumptions, documented in docs/planning.md (to be confirmed with Kemensos): one evacuation
team per 2,000 displaced at an incident (at least 1, at most 5) while the incident is
severity >= 3; one public-kitchen team per 1,000 people in a shelter (at most 3); one
shelter set-up team for every shelter with people; one psychosocial-support team for a
shelter with 50 or more vulnerable people (infants, elderly, pregnant or lactating women,
people with disabilities).
"""

from __future__ import annotations

import math

from logistics.dispatch import Task

EVACUATION_PEOPLE_PER_TEAM = 2000
EVACUATION_MAX_TEAMS = 5
EVACUATION_MIN_SEVERITY = 3
KITCHEN_PEOPLE_PER_TEAM = 1000
KITCHEN_MAX_TEAMS = 3
PSYCHOSOCIAL_MIN_VULNERABLE = 50
TASK_SKILL = {
    "evacuation": "evacuation",
    "public_kitchen": "public_kitchen",
    "shelter_setup": "shelter_setup",
    "psychosocial_support": "psychosocial",
}


def incident_tasks(
    incident_id: str, severity: int, displaced: int, affected: int, kabupaten_code: str,
    province_code: str,
) -> list[Task]:
    """The evacuation task of an incident (none below severity 3 or with nobody affected)."""
    if severity < EVACUATION_MIN_SEVERITY or displaced + affected <= 0:
        return []
    people = max(displaced, 1)
    teams = min(EVACUATION_MAX_TEAMS, max(1, math.ceil(people / EVACUATION_PEOPLE_PER_TEAM)))
    return [Task(task_id=f"evacuation:{incident_id}", kind="evacuation", concerns_id=incident_id,
                 kabupaten_code=kabupaten_code, province_code=province_code,
                 required_skills=frozenset({TASK_SKILL["evacuation"]}), teams_needed=teams)]


def shelter_tasks(
    shelter_id: str, total: int, vulnerable: int, kabupaten_code: str, province_code: str
) -> list[Task]:
    """The tasks of a shelter with ``total`` people of whom ``vulnerable`` are vulnerable
    (none for an empty shelter)."""
    if total <= 0:
        return []
    kitchen = min(KITCHEN_MAX_TEAMS, max(1, math.ceil(total / KITCHEN_PEOPLE_PER_TEAM)))
    wanted = [("public_kitchen", kitchen), ("shelter_setup", 1)]
    if vulnerable >= PSYCHOSOCIAL_MIN_VULNERABLE:
        wanted.append(("psychosocial_support", 1))
    return [
        Task(task_id=f"{kind}:{shelter_id}", kind=kind, concerns_id=shelter_id,
             kabupaten_code=kabupaten_code, province_code=province_code,
             required_skills=frozenset({TASK_SKILL[kind]}), teams_needed=teams)
        for kind, teams in wanted
    ]
