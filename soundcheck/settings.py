"""Typed settings for the local stack, read from `SOUNDCHECK_*` environment variables."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from soundcheck import REPO_ROOT

ENV_PREFIX = "SOUNDCHECK_"


class StackSettings(BaseSettings):
    """Where each real part keeps its data and which port it listens on.

    Every field is an environment variable: `redis_port` is `SOUNDCHECK_REDIS_PORT`.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    home: Path = Field(REPO_ROOT / ".soundcheck", description="data, logs and pid files")
    jar_cache: Path = Field(
        Path.home() / ".cache" / "soundcheck",
        description="Maven-built distributions of Kafka and Elasticsearch",
    )
    host: str = "127.0.0.1"
    port_offset: int = Field(
        0, description="added to every *_port below: runs a second stack beside the first"
    )

    mariadb_port: int = 3306
    mariadb_database: str = "soundcheck"
    mariadb_user: str = "soundcheck"
    mariadb_password: SecretStr = SecretStr("soundcheck")

    redis_port: int = 6379
    # B9: a Sentinel group (master, replica, three sentinels) for the failover drill.
    redis_ha_master_port: int = 6380
    redis_ha_replica_port: int = 6381
    redis_sentinel_1_port: int = 26379
    redis_sentinel_2_port: int = 26380
    redis_sentinel_3_port: int = 26381
    redis_sentinel_down_after_ms: int = Field(
        2000, description="how long a silent master counts as up before the sentinels fail over"
    )

    kafka_port: int = 9092
    kafka_controller_port: int = 9095
    kafka_heap: str = "512m"

    elasticsearch_port: int = 9200
    elasticsearch_transport_port: int = 9300
    elasticsearch_heap: str = "512m"

    prometheus_port: int = 9090
    alertmanager_port: int = 9093

    router_port: int = 8080
    router_token: SecretStr | None = None
    sandbox_port: int = Field(8099, description="PagerDuty / Slack / Jira stand-ins (HTTP)")
    sandbox_smtp_port: int = Field(2525, description="the sandbox's SMTP sink")

    booking_port: int = 8000
    booking_admin_token: SecretStr | None = Field(
        None, description="bearer token of the booking admin API; else made into its part dir"
    )
    pipeline_metrics_port: int = Field(24231, description="the pipeline's /metrics")
    pipeline_forward_port: int = Field(24224, description="Fluentd forward protocol (TCP + UDP)")
    pipeline_otlp_port: int = Field(4318, description="OTLP/HTTP /v1/traces")
    pipeline_buffer_max_bytes: int = Field(
        512 * 1024 * 1024, description="unindexed bytes the pipeline holds before back-pressure"
    )

    # Exporters Prometheus scrapes (issue 6); the JMX agent runs inside the Kafka JVM.
    redis_exporter_port: int = 9121
    mysqld_exporter_port: int = 9104
    mysqld_exporter_user: str = "exporter"
    mysqld_exporter_password: SecretStr = SecretStr("exporter")
    node_exporter_port: int = 9100
    elasticsearch_exporter_port: int = 9114
    kafka_jmx_exporter_port: int = 7071

    java_home: Path | None = Field(None, description="a JDK/JRE 17+; else JAVA_HOME, else PATH")
    maven_args: str = Field("", description="extra mvn arguments, e.g. '-s mirror-settings.xml'")
    start_timeout_seconds: float = 180.0

    @model_validator(mode="after")
    def _apply_port_offset(self) -> StackSettings:
        if self.port_offset:
            for name in type(self).model_fields:
                if name.endswith("_port"):
                    object.__setattr__(self, name, getattr(self, name) + self.port_offset)
            object.__setattr__(self, "port_offset", 0)  # applied once, even if re-validated
        return self

    def env_name(self, field: str) -> str:
        """The environment variable that sets `field`, for error messages."""
        return ENV_PREFIX + field.upper()

    def part_dir(self, part: str) -> Path:
        return self.home / part


@cache
def load_settings() -> StackSettings:
    return StackSettings()
