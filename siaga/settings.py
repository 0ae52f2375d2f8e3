"""One typed settings object per process, read from ``SIAGA_*`` environment variables.

Defaults give the embedded local run (`siaga run` starts its own broker and Redis).
Production points ``SIAGA_KAFKA_BOOTSTRAP_SERVERS`` and ``SIAGA_REDIS_URL`` at real services.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIAGA_", extra="ignore")

    # Unset means "start an embedded broker / Redis of our own" (siaga run only).
    kafka_bootstrap_servers: str | None = None
    redis_url: str | None = None

    # "local" humours the embedded Tansu broker (see docs/local-broker.md);
    # "production" is for Apache Kafka and never carries those workarounds.
    kafka_profile: Literal["local", "production"] = "production"

    topic_prefix: str = "siaga"
    partitions: int = Field(default=4, ge=1, le=1024)
    replication_factor: int = Field(default=1, ge=1)

    app_id: str = "siaga-worker"
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("./.siaga")

    # Planning (per operation): needs profile, days of cover, churn threshold.
    needs_profile: str = "bnpb-perka-7-2008"
    days_of_cover: float = Field(default=3.0, gt=0, le=90)
    replan_threshold: float = Field(default=0.05, ge=0, le=1)

    # Largest request body the API accepts (bytes); field posts are small.
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    log_level: str = "INFO"

    @field_validator("kafka_bootstrap_servers", "redis_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def topic(self, name: str) -> str:
        """Full topic name for a short catalogue name, e.g. ``incidents``."""
        return f"{self.topic_prefix}.{name}"

    def as_env(self) -> dict[str, str]:
        """These settings as ``SIAGA_*`` environment variables, for child processes."""
        env = {}
        for name, value in self.model_dump().items():
            if value is not None:
                env[f"SIAGA_{name.upper()}"] = str(value)
        return env

    def require_kafka(self) -> str:
        """Bootstrap servers, or a clear error when unset."""
        if not self.kafka_bootstrap_servers:
            raise SystemExit(
                "SIAGA_KAFKA_BOOTSTRAP_SERVERS must be set for this command "
                "(or use `siaga run`, which starts a local broker)"
            )
        return self.kafka_bootstrap_servers

    def require_services(self) -> tuple[str, str]:
        """Bootstrap servers and Redis URL, or a clear error when either is unset."""
        missing = [
            env
            for env, value in (
                ("SIAGA_KAFKA_BOOTSTRAP_SERVERS", self.kafka_bootstrap_servers),
                ("SIAGA_REDIS_URL", self.redis_url),
            )
            if not value
        ]
        if missing:
            raise SystemExit(
                f"{' and '.join(missing)} must be set for this command "
                "(or use `siaga run`, which starts local ones)"
            )
        assert self.kafka_bootstrap_servers and self.redis_url
        return self.kafka_bootstrap_servers, self.redis_url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; tests override by clearing the cache or passing their own."""
    return Settings()
