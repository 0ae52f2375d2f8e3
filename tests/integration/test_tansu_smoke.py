"""The light embedded broker (Tansu, local profile) keeps working: a smoke set that runs
in every test run, whichever broker the other suites use."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from redis.asyncio import Redis

from siaga.catalogue import DEADLETTER
from siaga.kafka import ensure_topics
from siaga.settings import Settings
from siaga.synthetic import province_disaster
from tests.support import consume_all, produce_many, shelter_totals, start_worker

pytestmark = [pytest.mark.integration]


async def test_on_tansu_a_province_plans_and_a_bad_record_is_parked(
    tansu_settings: Settings, redis: Redis
) -> None:
    settings = tansu_settings
    assert settings.kafka_profile == "local"
    await ensure_topics(settings)
    worker = start_worker(settings, "tansu-worker")
    try:
        disaster = province_disaster("35", 40, updates=40, warehouses=2, teams=4, tag="tansu")
        await produce_many(settings, disaster.setup + disaster.headcounts)
        want = {e.shelter_id: e.total for e in disaster.headcounts}
        deadline = time.monotonic() + 60
        while True:
            shown = await shelter_totals(redis, sorted(want), planned=True)
            if all(shown[k] == v for k, v in want.items()):
                break
            assert time.monotonic() < deadline, "shelters not settled on Tansu"
            await asyncio.sleep(0.3)
        # the plan ran: the shelters' needs and the province's shipments are there
        raw = await redis.hget(f"siaga:shelter:35/{sorted(want)[0]}", "json")
        assert raw and json.loads(raw)["needs"]
        assert await redis.scard("siaga:shipments:province:35") > 0

        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
        await producer.start()
        try:
            await producer.send_and_wait(settings.topic("shelters"), b"{not json", key=b"35")
        finally:
            await producer.stop()
        parked = await consume_all(settings, settings.topic(DEADLETTER), expected=1, timeout=30)
        assert any("not valid JSON" in json.loads(r.value)["reason"] for r in parked)
        assert worker.alive()
    finally:
        worker.stop()
