"""Quick views: a shelter's report shows at once, and the plan that includes it replaces it.

The projector keeps, per entity, the change with the greatest version (string order); these
tests check the order of the versions the two writers of a shelter view produce."""

from __future__ import annotations

from streams.changes import quick_version, shelter_version
from streams.shelters import quick_view

T1 = "2026-12-06T10:00:00+00:00"
T2 = "2026-12-06T10:00:05+00:00"
T3 = "2026-12-06T10:00:09+00:00"


def test_a_quick_view_outranks_the_plan_it_patched_and_any_plan_of_an_older_report() -> None:
    stored = shelter_version(T1, 5)
    quick = quick_version(T2, stored, "r2")
    assert quick > stored
    # a plan made (seq 6) from a snapshot before the report was accepted
    assert quick > shelter_version(T1, 6)


def test_the_plan_that_includes_the_report_replaces_its_quick_view() -> None:
    quick = quick_version(T2, shelter_version(T1, 5), "r2")
    assert shelter_version(T2, 6) > quick
    assert shelter_version(T3, 6) > quick


def test_a_later_report_outranks_an_earlier_quick_view_and_equal_times_order_by_report() -> None:
    stored = shelter_version(T1, 5)
    assert quick_version(T3, stored, "a") > quick_version(T2, stored, "z")
    assert quick_version(T2, stored, "b") > quick_version(T2, stored, "a")


def test_a_quick_view_on_a_quick_view_keeps_the_plan_part() -> None:
    first = quick_version(T2, shelter_version(T1, 5), "r2")
    second = quick_version(T3, first, "r3")
    assert second > first
    assert shelter_version(T3, 6) > second
    assert shelter_version(T3, 5) < second  # the same plan's view of the older snapshot


def test_new_versions_outrank_views_written_before_shelters_had_two_writers() -> None:
    legacy = f"{123:020d}"
    assert shelter_version(T1, 1) > legacy
    assert quick_version(T1, legacy, "r") > legacy


def test_a_quick_view_patches_the_report_onto_the_plans_figures() -> None:
    stored = {
        "shelter_id": "s1", "name": "Old name", "headcount": {"total": 10},
        "needs": [{"item": "rice", "need": 30.0, "planned": 20, "shortfall": 10}],
        "unmet_share": 0.33, "accepted_at": T1,
    }
    row = {
        "shelter_id": "s1", "name": "SDN Cibeber", "province_code": "32",
        "headcount": {"total": 25}, "accepted_at": T2, "headcount_version": "h2",
        "registration_version": "r1", "location": {"lat": -6.9, "lon": 107.1},
    }
    version, data = quick_view(row, stored, shelter_version(T1, 5))
    assert data["headcount"] == {"total": 25}
    assert data["name"] == "SDN Cibeber"
    assert data["needs"] == stored["needs"]  # the plan's, until the re-plan
    assert data["plan_pending"] is True
    assert version > shelter_version(T1, 5)
    assert stored["headcount"] == {"total": 10}  # the stored view is not mutated


def test_a_shelter_not_planned_yet_shows_without_needs() -> None:
    row = {"shelter_id": "s9", "province_code": "32", "headcount": {"total": 4},
           "accepted_at": T1, "registration_version": "r"}
    version, data = quick_view(row, None, None)
    assert data["needs"] == [] and data["headcount"] == {"total": 4}
    assert version.endswith(".qr")


async def test_a_plans_views_wait_until_the_quick_views_it_read_are_shown() -> None:
    import asyncio
    from types import SimpleNamespace

    from streams.planner import quick_views_shown

    ctx = SimpleNamespace(quick_projected={"32": 7})
    assert await quick_views_shown(ctx, "32", None)  # no quick view sent yet
    assert await quick_views_shown(ctx, "32", 7)  # already shown

    async def project_later() -> None:
        await asyncio.sleep(0.2)
        ctx.quick_projected["32"] = 12

    waited = asyncio.get_running_loop().time()
    projecting = asyncio.create_task(project_later())
    assert await quick_views_shown(ctx, "32", 12, limit=5.0)
    assert asyncio.get_running_loop().time() - waited >= 0.2  # waited for them
    await projecting
    # never shown here (a projector that lost its partition): the plan goes on after the limit
    assert not await quick_views_shown(ctx, "33", 3, limit=0.1)
