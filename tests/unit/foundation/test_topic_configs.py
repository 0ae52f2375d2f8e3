"""Topic configurations: the system of record is kept forever, derived topics for a week,
changelogs compacted, and min.insync.replicas follows the replication factor."""

from __future__ import annotations

import pytest

from siaga.catalogue import INTERNAL_TOPICS, OUTPUT_TOPICS, TOPICS
from siaga.kafka import changelog_topic_configs, topic_configs
from siaga.settings import Settings

WEEK_MS = str(7 * 24 * 3600 * 1000)
INPUTS = [spec.name for spec in TOPICS]


def _settings(replication: int) -> Settings:
    return Settings(replication_factor=replication)


def test_the_six_input_topics_are_the_ones_kept_forever() -> None:
    assert INPUTS == ["incidents", "shelters", "warehouses", "teams", "shipments", "kitchens"]
    for name in INPUTS:
        configs = topic_configs(_settings(1), name)
        assert configs["retention.ms"] == "-1", name
        assert configs["retention.bytes"] == "-1", name
        assert configs["cleanup.policy"] == "delete", name


@pytest.mark.parametrize("name", ["deadletter", "state-changes", "stock-moves"])
def test_records_nothing_else_can_rebuild_are_kept_forever(name: str) -> None:
    # state-changes: rebuild-readmodels re-applies it from the beginning
    assert topic_configs(_settings(1), name)["retention.ms"] == "-1"


@pytest.mark.parametrize(
    "name", ["replan", "escalations", "national-results", *OUTPUT_TOPICS]
)
def test_derived_topics_keep_a_week(name: str) -> None:
    configs = topic_configs(_settings(1), name)
    assert configs["retention.ms"] == WEEK_MS
    assert configs["cleanup.policy"] == "delete"


def test_every_catalogue_topic_has_a_configuration_and_none_sets_record_size() -> None:
    for name in [*INPUTS, *INTERNAL_TOPICS]:
        configs = topic_configs(_settings(3), name)
        assert set(configs) == {
            "cleanup.policy", "retention.ms", "retention.bytes", "min.insync.replicas"
        }, name
        assert "max.message.bytes" not in configs


def test_an_unknown_topic_is_refused() -> None:
    with pytest.raises(KeyError, match="not a catalogue topic"):
        topic_configs(_settings(1), "incidentz")


@pytest.mark.parametrize(("replication", "min_isr"), [(1, "1"), (2, "1"), (3, "2"), (5, "2")])
def test_min_insync_replicas_is_two_wherever_replication_is_three(
    replication: int, min_isr: str
) -> None:
    settings = _settings(replication)
    for name in [*INPUTS, *INTERNAL_TOPICS]:
        assert topic_configs(settings, name)["min.insync.replicas"] == min_isr, name
    assert changelog_topic_configs(settings)["min.insync.replicas"] == min_isr


def test_changelogs_are_compacted() -> None:
    assert changelog_topic_configs(_settings(1))["cleanup.policy"] == "compact"
    assert changelog_topic_configs(_settings(3)) == {
        "cleanup.policy": "compact", "min.insync.replicas": "2",
        # closed segments only are compacted: small ones, rolled every 15 minutes
        "segment.bytes": str(16 * 1024 * 1024), "segment.ms": str(15 * 60 * 1000),
        "min.cleanable.dirty.ratio": "0.2",
    }


def test_entity_tables_are_created_with_the_changelog_configuration() -> None:
    from types import SimpleNamespace

    import faust

    from streams.entities import entity_table

    settings = Settings(replication_factor=3, partitions=4)
    app = faust.App(f"cfg-{id(settings)}", broker="kafka://127.0.0.1:1", store="memory://")
    ctx = SimpleNamespace(app=app, settings=settings, tables={})
    table = entity_table(ctx, "shelters")
    changelog = table.changelog_topic
    assert changelog.config == changelog_topic_configs(settings)
    assert changelog.config["min.insync.replicas"] == "2"
    assert changelog.compacting is True


def test_ensure_topics_authenticates_like_the_other_clients() -> None:
    import asyncio

    from siaga.kafka import ensure_topics

    settings = Settings(kafka_bootstrap_servers="127.0.0.1:1",
                        kafka_security_protocol="SASL_PLAINTEXT")
    # no credentials: refused before any connection, as every other client refuses
    with pytest.raises(SystemExit, match="SIAGA_KAFKA_SASL_USERNAME"):
        asyncio.run(ensure_topics(settings))
