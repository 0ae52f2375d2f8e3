"""One typed settings object per process, read from ``SIAGA_*`` environment variables.

Defaults give the embedded local run (`siaga run` starts its own broker and Redis).
Production points ``SIAGA_KAFKA_BOOTSTRAP_SERVERS`` and ``SIAGA_REDIS_URL`` at real services.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
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
    # The approval gate (docs/planning.md, "Tiers"): a national-tier shipment proposed to a
    # province and a team mobilised to it from another province wait for a coordinator of
    # that province to approve them. false: the national tier acts at once (read by the
    # worker that runs the national tier; restart it to change).
    national_approval: bool = True
    # Processes a worker plans in (streams/planpool.py): 1 keeps ingest on its own core
    # while a big province is re-planned; 0 plans in a thread of the worker (one core).
    plan_processes: int = Field(default=1, ge=0, le=16)

    # How long the API waits for the broker to acknowledge a write (all in-sync replicas)
    # before answering 503; the client then retries with the same event_id. Above a broker
    # failover (session timeout 6-9 s, then a new partition leader) so that one dead broker
    # of three costs a slower 202, not a 503.
    publish_timeout_seconds: float = Field(default=12.0, gt=0, le=120)

    # Largest request body the API accepts (bytes); field posts are small.
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    log_level: str = "INFO"

    # Security (issue 12). CAP alerts are accepted only from these senders (comma-separated
    # CAP <sender> values); BMKG InaTEWS by default.
    cap_allowed_senders: str = "info_inatews@bmkg.go.id"
    # Token lifetimes: `siaga tokens create` default, and the demo tokens of `siaga run`.
    token_ttl_days: float = Field(default=90.0, gt=0, le=3650)
    demo_token_ttl_hours: float = Field(default=72.0, gt=0, le=24 * 90)
    # A page's session cookie (exchanged once for the token; never longer than the token).
    session_ttl_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # Throttles: failed authentications per client address per minute; writes per token
    # per minute; live-feed connections per token (per API process).
    auth_failures_per_minute: int = Field(default=20, ge=1)
    writes_per_minute: int = Field(default=300, ge=1)
    live_connections_per_token: int = Field(default=10, ge=1)

    # Observability (issue 17, docs/operations.md). A worker serves its metrics on this
    # address and port (0: any free port; the port is printed at start and in its
    # readiness report). The API's /metrics answers only clients in these networks
    # (comma-separated CIDRs; "any" for everyone). The picture is stale when the pipeline
    # was last seen caught up longer ago than stale_after_seconds. Logs: text or json.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_allowed_networks: str = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
    stale_after_seconds: float = Field(default=30.0, gt=0, le=24 * 3600)
    log_format: Literal["text", "json"] = "text"
    # OpenTelemetry: the collector's OTLP/HTTP base URL (e.g. http://otel-collector:4318)
    # the API's and workers' spans are exported to. Unset: the standard
    # OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT; neither: spans are not exported.
    otlp_endpoint: str | None = None

    # Authenticated Kafka (production): PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, the SASL
    # mechanism and credentials, and the CA file that signed the brokers' certificates.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = (
        "PLAINTEXT"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = None
    # Authenticated Redis: an ACL user and password, either in SIAGA_REDIS_URL
    # (redis://user:password@host:6379/0) or here; these are merged into redis_url.
    redis_username: str | None = None
    redis_password: str | None = None

    @field_validator("metrics_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        """Comma-separated CIDRs, or "any"; a typo must not turn /metrics into a 500."""
        import ipaddress

        if value.strip().lower() == "any":
            return value
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"{part!r} is not a network (a CIDR like 10.0.0.0/8) nor 'any'"
                ) from None
        return value

    @field_validator("kafka_bootstrap_servers", "redis_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _redis_credentials_in_url(self) -> Settings:
        """Put SIAGA_REDIS_USERNAME/PASSWORD into the Redis URL, which every client uses."""
        if self.redis_url and self.redis_password:
            from urllib.parse import quote, urlsplit, urlunsplit

            parts = urlsplit(self.redis_url)
            if parts.password is None:
                user = quote(self.redis_username or "", safe="")
                netloc = f"{user}:{quote(self.redis_password, safe='')}@{parts.hostname or ''}"
                if parts.port:
                    netloc += f":{parts.port}"
                self.redis_url = urlunsplit(parts._replace(netloc=netloc))
        return self

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


def kafka_client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments that authenticate an aiokafka client (producer, consumer, admin).

    Empty for PLAINTEXT (the embedded broker, tests). ``SASL_SSL``/``SASL_PLAINTEXT`` add
    the SASL mechanism (SCRAM-SHA-512 by default) and credentials; ``SSL``/``SASL_SSL`` add
    an SSL context trusting ``SIAGA_KAFKA_SSL_CAFILE`` (the system CAs when unset). faust
    takes the same values as ``broker_credentials=faust.SASLCredentials(username=…,
    password=…, mechanism=…, ssl_context=…)``.
    """
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        from aiokafka.helpers import create_ssl_context

        options["ssl_context"] = create_ssl_context(cafile=settings.kafka_ssl_cafile)
    if protocol.startswith("SASL_"):
        if not settings.kafka_sasl_username or not settings.kafka_sasl_password:
            raise SystemExit(
                f"SIAGA_KAFKA_SECURITY_PROTOCOL={protocol} needs SIAGA_KAFKA_SASL_USERNAME "
                "and SIAGA_KAFKA_SASL_PASSWORD"
            )
        options.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password,
        )
    return options
