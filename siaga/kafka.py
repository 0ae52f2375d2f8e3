"""Kafka admin helpers: create the catalogue's topics, check the broker is reachable."""

from __future__ import annotations

import asyncio
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from siaga.catalogue import INTERNAL_TOPICS, TOPICS
from siaga.settings import Settings

log = logging.getLogger(__name__)


def topic_names(settings: Settings) -> list[str]:
    return [settings.topic(spec.name) for spec in TOPICS] + [
        settings.topic(name) for name in INTERNAL_TOPICS
    ]


async def ensure_topics(settings: Settings, timeout: float = 30) -> list[str]:
    """Create every catalogue topic that does not exist yet; returns those created."""
    bootstrap = settings.require_kafka()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [name for name in topic_names(settings) if name not in existing]
        created = []
        for name in wanted:
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            name,
                            num_partitions=settings.partitions,
                            replication_factor=settings.replication_factor,
                        )
                    ]
                )
                created.append(name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        await admin.close()


async def wait_for_broker(bootstrap: str, timeout: float = 30) -> None:
    """Return once the broker answers a metadata request, or raise TimeoutError."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Exception | None = None
    while asyncio.get_running_loop().time() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as exc:
            last = exc
            await asyncio.sleep(0.2)
        finally:
            await admin.close()
    raise TimeoutError(f"broker {bootstrap} not reachable after {timeout:.0f} s: {last}")
