"""Typed settings for the local stack, read from `SOUNDCHECK_*` environment variables.

The ports and token the stack gives its own services are `SOUNDCHECK_STACK_*`: the names
`SOUNDCHECK_ROUTER_*`, `SOUNDCHECK_PIPELINE_*` and `SOUNDCHECK_SANDBOX_*` belong to those services,
which the stack sets for each child (`soundcheck/stack/parts/`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from instrumentation.settings_contract import StrictSettings
from soundcheck import REPO_ROOT

ENV_PREFIX = "SOUNDCHECK_"
STACK_PREFIX = ENV_PREFIX + "STACK_"


def stack_setting(default: Any, name: str, description: str = "") -> Any:
    """A stack setting for one of our own services, read from `SOUNDCHECK_STACK_<name>`: the
    service's own `SOUNDCHECK_<name>` is its variable, which the stack sets for the child."""
    return Field(default, validation_alias=STACK_PREFIX + name, description=description or None)


class StackSettings(StrictSettings):
    """The `soundcheck` command: where each real part keeps its data, which port it listens on.

    Every field is an environment variable: `redis_port` is `SOUNDCHECK_REDIS_PORT`.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)

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

    router_port: int = stack_setting(8080, "ROUTER_PORT")
    router_token: SecretStr | None = stack_setting(
        None, "ROUTER_TOKEN", "bearer token Alertmanager presents to the router; else made"
    )
    sandbox_port: int = stack_setting(8099, "SANDBOX_PORT", "PagerDuty / Slack / Jira stand-ins")
    sandbox_smtp_port: int = stack_setting(2525, "SANDBOX_SMTP_PORT", "the sandbox's SMTP sink")

    booking_port: int = 8000
    booking_metrics_port: int = Field(
        8001, description="the booking service's /metrics, served apart from its request threads"
    )
    booking_instances: int = Field(
        1,
        ge=1,
        le=9,
        description="booking services on one MariaDB / Redis / Kafka behind the balancer; "
        "instance k listens on booking_port + 10 (k - 1) and booking_metrics_port + 10 (k - 1)",
    )
    balancer_port: int = Field(8088, description="HAProxy in front of every booking instance")
    blackbox_exporter_port: int = Field(9115, description="health probes of our services")
    booking_admin_token: SecretStr | None = Field(
        None, description="bearer token of the booking admin API; else made into its part dir"
    )
    pipeline_metrics_port: int = stack_setting(24231, "PIPELINE_METRICS_PORT", "/metrics")
    pipeline_forward_port: int = stack_setting(
        24224, "PIPELINE_FORWARD_PORT", "Fluentd forward protocol (TCP + UDP)"
    )
    pipeline_otlp_port: int = stack_setting(4318, "PIPELINE_OTLP_PORT", "OTLP/HTTP traces")
    pipeline_buffer_max_bytes: int = stack_setting(
        512 * 1024 * 1024,
        "PIPELINE_BUFFER_MAX_BYTES",
        "unindexed bytes the pipeline holds before back-pressure",
    )

    # Exporters Prometheus scrapes for the alerts (A1); the JMX agent runs inside the Kafka JVM.
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
        return type(self).env_names()[field]

    def part_dir(self, part: str) -> Path:
        return self.home / part


class TestRunSettings(StrictSettings):
    """The test suite's own switches (`tests/conftest.py` and the drills read them)."""

    __test__: ClassVar[bool] = False  # a settings class, not a pytest test class
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)

    test_stack: Literal["", "running"] = Field(
        "", description="'running': use the running stack, never start or stop a part"
    )
    keep_stack: bool = Field(False, description="leave the parts the tests started running")
    test_es_outage_seconds: float = Field(60.0, description="the pipeline drill's outage")
    test_pagerduty_outage_seconds: float = Field(60.0, description="the router drill's outage")


@cache
def load_settings() -> StackSettings:
    return StackSettings()
