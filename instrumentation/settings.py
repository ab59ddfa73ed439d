"""Telemetry settings shared by every service that uses `instrumentation/`.

Traces follow the standard OpenTelemetry variables, read by the SDK itself: OTEL_SERVICE_NAME,
OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER(_ARG). The rest
(the switch the benchmarks flip, log shipping) is read from `SOUNDCHECK_*` variables; the stack
part of each service sets the addresses of its own stack, so one stack's service never ships
telemetry to another stack's pipeline.
"""

from __future__ import annotations

from typing import Literal

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from instrumentation.settings_contract import StrictSettings

DEFAULT_SERVICE_NAME = "soundcheck"
DEFAULT_ENVIRONMENT = "local"
ENVIRONMENT_ATTRIBUTE = "deployment.environment"


class TelemetrySettings(StrictSettings):
    """Log shipping, and the switch the benchmarks flip (traces: the OTEL_* variables)."""

    model_config = SettingsConfigDict(env_prefix="SOUNDCHECK_")

    instrumentation: Literal["on", "off"] = Field(
        "on",
        description="'off' turns tracing, request metrics and log shipping into no-ops "
        "(the uninstrumented side of a benchmark); logs still go to stdout",
    )

    # --- logs (O3) --------------------------------------------------------------------------
    log_level: str = Field("INFO", description="ERROR, WARNING, INFO or DEBUG (off by default)")
    log_stdout: bool = Field(True, description="ECS JSON lines on stdout as well")
    fluent_enabled: bool = Field(True, description="ship records over the forward protocol")
    fluent_host: str = "127.0.0.1"
    fluent_port: int = Field(24224, description="Fluentd forward protocol (the pipeline)")
    fluent_tag: str = Field("", description="forward-protocol tag; empty = '<service>.log'")
    log_buffer_records: int = Field(
        200_000,
        gt=0,
        description="records held while the receiver is away (30 s of a busy service); "
        "beyond this, new records are dropped and counted",
    )
    log_buffer_bytes: int = Field(64 * 1024 * 1024, gt=0, description="the same bound in bytes")
    log_batch_records: int = Field(500, gt=0, description="records per forward-protocol chunk")
    log_batch_bytes: int = Field(1024 * 1024, gt=0, description="bytes per chunk")
    log_linger_seconds: float = Field(
        0.1,
        ge=0,
        description="how long a chunk smaller than SOUNDCHECK_LOG_BATCH_RECORDS waits for more "
        "records before it is sent",
    )
    log_record_max_bytes: int = Field(
        256 * 1024, gt=0, description="a bigger single record is dropped and counted"
    )
    log_ack_timeout_seconds: float = Field(
        5.0, gt=0, description="how long a chunk waits for the receiver's ack before resending"
    )
    log_retry_max_seconds: float = Field(
        1.0, gt=0, description="longest wait between reconnect attempts (keeps flushing prompt)"
    )
    log_flush_on_exit_seconds: float = Field(
        3.0, ge=0, description="how long a stopping process tries to ship what it still holds"
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level == "WARN":
            level = "WARNING"
        if level not in ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"):
            raise ValueError("log_level must be one of ERROR, WARNING, INFO, DEBUG")
        return level

    @property
    def enabled(self) -> bool:
        return self.instrumentation == "on"

    def tag_for(self, service_name: str) -> str:
        return self.fluent_tag or f"{service_name}.log"


def service_resource(service_name: str | None = None) -> Resource:
    """The process's OpenTelemetry resource, as the SDK builds it from OTEL_SERVICE_NAME and
    OTEL_RESOURCE_ATTRIBUTES; `service_name` (the code's own name) and the `local` environment
    apply only where those variables say nothing."""
    detected = Resource.create()
    if str(detected.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        detected = detected.merge(Resource({SERVICE_NAME: service_name or DEFAULT_SERVICE_NAME}))
    return Resource({ENVIRONMENT_ATTRIBUTE: DEFAULT_ENVIRONMENT}).merge(detected)


def service_identity(service_name: str | None = None) -> tuple[str, str]:
    """(service.name, deployment.environment) of this process, for logs as for traces."""
    attributes = service_resource(service_name).attributes
    return str(attributes[SERVICE_NAME]), str(attributes[ENVIRONMENT_ATTRIBUTE])


def load_settings() -> TelemetrySettings:
    """Fresh settings from the environment (not cached: tests and benchmarks change it)."""
    return TelemetrySettings()
