"""On Apache Kafka, the topics Siaga creates carry the configurations siaga.kafka says:
input topics kept forever, derived ones a week, faust's changelogs compacted."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from siaga.apache_kafka import kafka_available, start_kafka
from siaga.catalogue import INTERNAL_TOPICS, TOPICS
from siaga.kafka import changelog_topic_configs, ensure_topics, topic_configs
from siaga.settings import Settings

pytestmark = pytest.mark.integration

WATCHED = ("cleanup.policy", "retention.ms", "retention.bytes", "min.insync.replicas",
           "max.message.bytes", "segment.bytes", "segment.ms", "min.cleanable.dirty.ratio")


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = kafka_available()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"Apache Kafka cannot run in CI: {reason}")
        pytest.skip(f"Apache Kafka cannot run here: {reason}")
    proc, bootstrap = start_kafka(tmp_path_factory.mktemp("topic-configs"), heap="384m")
    try:
        yield bootstrap
    finally:
        proc.stop()


def _settings(bootstrap: str, tmp_path: Path) -> Settings:
    token = uuid.uuid4().hex[:8]
    return Settings(
        kafka_bootstrap_servers=bootstrap,
        redis_url="redis://127.0.0.1:1/0",  # never connected: no agent runs here
        kafka_profile="production",
        topic_prefix=f"cfg{token}",
        app_id=f"cfg-{token}",
        data_dir=tmp_path,
        partitions=4,
    )


async def _describe(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    """The watched configurations of ``names``, once the broker knows every one of them
    (a topic created a moment ago can answer UNKNOWN_TOPIC_OR_PARTITION for a while)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    errors: dict[str, int] = {}
    try:
        deadline = asyncio.get_running_loop().time() + 15
        while True:
            responses = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
            )
            out: dict[str, dict[str, str]] = {}
            errors = {}
            for response in responses:
                for error_code, _msg, _type, name, entries in response.resources:
                    if error_code:
                        errors[name] = error_code
                    out[name] = {e[0]: e[1] for e in entries if e[0] in WATCHED}
            if not errors:
                return out
            assert asyncio.get_running_loop().time() < deadline, errors
            await asyncio.sleep(0.3)
    finally:
        await admin.close()


async def test_catalogue_topics_are_created_with_their_configurations(
    kafka: str, tmp_path: Path
) -> None:
    settings = _settings(kafka, tmp_path)
    created = await ensure_topics(settings)
    shorts = [spec.name for spec in TOPICS] + list(INTERNAL_TOPICS)
    assert sorted(created) == sorted(settings.topic(s) for s in shorts)
    described = await _describe(kafka, [settings.topic(s) for s in shorts])
    for short in shorts:
        got = described[settings.topic(short)]
        for key, value in topic_configs(settings, short).items():
            assert got[key] == value, (short, key, got)
        assert got["max.message.bytes"] == "1048588"  # the broker's default, untouched
    assert described[settings.topic("incidents")]["retention.ms"] == "-1"
    assert described[settings.topic("plans")]["retention.ms"] == str(7 * 24 * 3600 * 1000)
    # a second call creates nothing and changes nothing
    assert await ensure_topics(settings) == []


async def test_a_topic_created_without_configurations_is_brought_into_line(
    kafka: str, tmp_path: Path
) -> None:
    from aiokafka.admin import NewTopic

    settings = _settings(kafka, tmp_path)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:  # as the code before topic configurations created it: broker defaults (7 days)
        await admin.create_topics([NewTopic(settings.topic("incidents"), 4, 1)])
    finally:
        await admin.close()
    before = await _describe(kafka, [settings.topic("incidents")])
    assert before[settings.topic("incidents")]["retention.ms"] == "604800000"
    created = await ensure_topics(settings)
    assert settings.topic("incidents") not in created
    deadline = asyncio.get_running_loop().time() + 15
    while True:  # the broker applies an altered configuration a moment later
        after = await _describe(kafka, [settings.topic("incidents")])
        if after[settings.topic("incidents")]["retention.ms"] == "-1":
            break
        assert asyncio.get_running_loop().time() < deadline, after
        await asyncio.sleep(0.3)
    assert after[settings.topic("incidents")]["retention.bytes"] == "-1"


async def test_faust_changelogs_of_the_worker_tables_are_compacted(
    kafka: str, tmp_path: Path
) -> None:
    from streams.app import create_app

    settings = _settings(kafka, tmp_path)
    await ensure_topics(settings)
    app, _ctx = create_app(settings)
    tables = list(app.tables.values())
    assert len(tables) >= 5, [t.name for t in tables]
    try:
        for table in tables:  # what the worker does at start-up, table by table
            await table.changelog_topic.maybe_declare()
    finally:
        if app.producer is not None:
            await app.producer.stop()
    names = [table.changelog_topic.get_topic_name() for table in tables]
    described = await _describe(kafka, names)
    assert set(described) == set(names)
    for name, got in described.items():
        assert got["cleanup.policy"] == "compact", (name, got)
        wanted = changelog_topic_configs(settings)
        for key in ("min.insync.replicas", "segment.bytes", "segment.ms",
                    "min.cleanable.dirty.ratio"):
            assert got[key] == wanted[key], (name, key, got)


async def test_on_tansu_ensure_topics_still_creates_every_topic_once(tmp_path: Path) -> None:
    from siaga.local import start_broker

    proc, bootstrap = start_broker(tmp_path)
    try:
        settings = _settings(bootstrap, tmp_path)
        created = await ensure_topics(settings)
        assert len(created) == len(TOPICS) + len(INTERNAL_TOPICS)
        assert await ensure_topics(settings) == []
    finally:
        proc.stop()


async def test_topics_that_cannot_be_created_fail_with_the_brokers_reason(
    kafka: str, tmp_path: Path
) -> None:
    from aiokafka.errors import KafkaError

    # replication 3 on one broker: refused (once retried, as a broker still starting
    # answers the same), never counted as created
    settings = _settings(kafka, tmp_path).model_copy(update={"replication_factor": 3})
    with pytest.raises(KafkaError, match="InvalidReplicationFactor"):
        await ensure_topics(settings, timeout=2)
