"""The team routes over HTTP against a real API, broker and Redis (read models seeded as the
projector writes them): what each caller may do, the 4xx that name the field, and what goes
on the log (the source that the worker checks again)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from siaga import readmodel
from siaga.catalogue import TOPICS
from siaga.settings import Settings
from tests.e2e.helpers import bearer, make_token
from tests.support import consume_all

pytestmark = pytest.mark.e2e

S = uuid.uuid4().hex[:6]
TEAM, OTHER, TASK = f"tagana-http-{S}", f"tagana-http-other-{S}", f"public_kitchen:sh-http-{S}"


def _seed(redis_url: str) -> None:
    def change(entity: str, entity_id: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"entity": entity, "id": entity_id, "province_code": "32", "score": time.time(),
                "version": f"{time.time_ns():020d}", "deleted": False,
                "data": {"province_code": "32", **data}}

    team = {"name": "TAGANA Uji", "availability": "assigned", "members": 4,
            "location": {"lat": -6.82, "lon": 107.14}}
    changes = [
        change("team", TEAM, {"team_id": TEAM, **team, "assignment": {
            "task_id": TASK, "kind": "public_kitchen", "target_id": f"sh-http-{S}",
            "status": "dispatched"}}),
        change("team", OTHER, {"team_id": OTHER, **team, "assignment": None}),
        change("task", TASK, {"task_id": TASK, "kind": "public_kitchen", "status": "dispatched",
                              "target_id": f"sh-http-{S}", "assigned_team_ids": [TEAM]}),
        change("shelter", f"sh-http-{S}", {"shelter_id": f"sh-http-{S}",
                                            "name": "Balai Desa Uji",
                                            "location": {"lat": -6.80, "lon": 107.06}}),
    ]

    async def write() -> None:
        from redis.asyncio import Redis

        client = Redis.from_url(redis_url)
        try:
            for item in changes:
                await readmodel.apply_change(client, item)
        finally:
            await client.aclose()

    asyncio.run(write())


def test_team_routes_check_role_scope_and_fields_and_publish_the_phone_as_source(
    api: str, settings: Settings, tokens: dict[str, str],
) -> None:
    assert settings.redis_url
    from siaga.kafka import ensure_topics

    asyncio.run(ensure_topics(settings))
    _seed(settings.redis_url)
    phone = make_token(settings.redis_url, "team", team_id=TEAM, province_code="32")
    with httpx.Client(base_url=api, timeout=15) as http:
        def post(path: str, token: str, **body: Any) -> httpx.Response:
            return http.post(path, headers=bearer(token),
                             json={"event_id": str(uuid.uuid4()), **body})

        # the phone reads its own team, with the task and the shelter's name
        view = http.get(f"/api/v1/teams/{TEAM}", headers=bearer(phone)).json()
        assert view["assignment"]["task_id"] == TASK
        assert view["task"]["status"] == "dispatched"
        assert view["target"] == {"kind": "shelter", "id": f"sh-http-{S}",
                                  "name": "Balai Desa Uji",
                                  "location": {"lat": -6.80, "lon": 107.06}}
        # … and nothing else: another team, the shared picture
        other = http.get(f"/api/v1/teams/{OTHER}", headers=bearer(phone))
        assert other.status_code == 403 and other.json()["detail"].startswith("team_id:")
        assert http.get("/api/v1/situation", headers=bearer(phone)).status_code == 403
        assert post(f"/api/v1/tasks/{TASK}/progress", phone, team_id=OTHER,
                    status="acknowledged").status_code == 403
        # fields
        bad = post(f"/api/v1/tasks/{TASK}/progress", phone, team_id=TEAM, status="declined")
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "reason"
        bad = post(f"/api/v1/tasks/{TASK}/progress", phone, team_id=TEAM, status="finished")
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "status"
        bad = post(f"/api/v1/teams/{TEAM}/status", phone, availability="available",
                   members_present=9)
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "members_present"
        bad = post(f"/api/v1/teams/{TEAM}/status", phone, availability="assigned",
                   members_present=2)
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "availability"
        future = post(f"/api/v1/tasks/{TASK}/progress", phone, team_id=TEAM, status="arrived",
                      occurred_at="2099-01-01T00:00:00Z")
        assert future.status_code == 422 and "occurred_at" in future.text
        # a task the team is not on: 409 naming task_id
        wrong = post("/api/v1/tasks/evacuation:elsewhere/progress", phone, team_id=TEAM,
                     status="acknowledged")
        assert wrong.status_code == 409 and wrong.json()["detail"].startswith("task_id:")
        assert post(f"/api/v1/teams/ghost-{S}/status", tokens["coordinator"],
                    availability="available", members_present=1).status_code == 404
        # accepted: the phone's own reports, a retry counts once, coordinators too
        event_id = str(uuid.uuid4())
        body = {"event_id": event_id, "team_id": TEAM, "status": "acknowledged"}
        for _ in range(2):
            ok = http.post(f"/api/v1/tasks/{TASK}/progress", headers=bearer(phone), json=body)
            assert ok.status_code == 202 and ok.json()["event_id"] == event_id
        assert post(f"/api/v1/teams/{TEAM}/status", phone, availability="resting",
                    members_present=4).status_code == 202
        assert post(f"/api/v1/teams/{TEAM}/status", tokens["coordinator"],
                    availability="available", members_present=3).status_code == 202
        assert post(f"/api/v1/teams/{TEAM}/status", tokens["coordinator_other"],
                    availability="available", members_present=3).status_code == 403
        reg = post("/api/v1/teams", tokens["coordinator"], team_id=f"tagana-new-{S}",
                   name="TAGANA Baru", province_code="32", kabupaten_code="35.08",
                   base={"lat": -6.82, "lon": 107.14}, members=[{"name": "Asep"}],
                   skills=["evacuation"], rank="muda")
        assert reg.status_code == 422 and reg.json()["detail"][0]["loc"][-1] == "kabupaten_code"
        sea = {"lat": -8.5, "lon": 104.0}  # the Indian Ocean, south of Sumatra
        reg = post("/api/v1/teams", tokens["coordinator"], team_id=f"tagana-new-{S}",
                   name="TAGANA Baru", province_code="32", kabupaten_code="32.03", base=sea,
                   members=[{"name": "Asep"}], skills=["evacuation"], rank="muda")
        assert reg.status_code == 422 and reg.json()["detail"][0]["loc"][-1] == "location"
        reg = post("/api/v1/teams", tokens["coordinator"], team_id=f"tagana-new-{S}",
                   name="TAGANA Baru", province_code="32", kabupaten_code="32.03",
                   base={"lat": -7.98, "lon": 112.63}, members=[{"name": "Asep"}],
                   skills=["evacuation"], rank="muda")  # Malang, in Jawa Timur (35)
        assert reg.status_code == 422 and reg.json()["detail"][0]["loc"][-1] == "province_code"
        at_sea = post(f"/api/v1/teams/{TEAM}/status", phone, availability="available",
                      members_present=2, location=sea)
        assert at_sea.status_code == 422 and at_sea.json()["detail"][0]["loc"][-1] == "location"

    teams_topic = next(t for t in TOPICS if t.name == "teams")
    records = asyncio.run(consume_all(settings, settings.topic(teams_topic.name), expected=3))
    values = [json.loads(r.value) for r in records]
    assert [(v["type"], v["source"]) for v in values] == [
        ("task.progress_reported", f"team:{TEAM}"),
        ("team.availability_reported", f"team:{TEAM}"),
        ("team.availability_reported", "coordinator:test coordinator"),
    ]
    assert all(r.key == b"32" for r in records)
