"""Telemetry settings shared by every service that uses `instrumentation/`.

Read from `SOUNDCHECK_*` environment variables (the stack part of each service sets the addresses
of its own stack), so one stack's service never ships telemetry to another stack's pipeline.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelemetrySettings(BaseSettings):
    """Where traces and logs go, how much is buffered, and the switch the benchmarks flip."""

    model_config = SettingsConfigDict(env_prefix="SOUNDCHECK_", extra="ignore")

    instrumentation: Literal["on", "off"] = Field(
        "on",
        description="'off' turns tracing, request metrics and log shipping into no-ops "
        "(the uninstrumented side of a benchmark); logs still go to stdout",
    )
    service_name: str = Field("soundcheck", description="used when a caller gives none")
    service_environment: str = Field("local", description="ECS service.environment")

    # --- traces (O1) ------------------------------------------------------------------------
    otlp_endpoint: str = Field(
        "http://127.0.0.1:4318", description="OTLP/HTTP base URL; spans go to <this>/v1/traces"
    )
    trace_sample_ratio: float = Field(1.0, ge=0.0, le=1.0, description="head sampling ratio")
    trace_export_timeout_seconds: float = Field(5.0, gt=0)

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

    def traces_url(self) -> str:
        return self.otlp_endpoint.rstrip("/") + "/v1/traces"

    def tag_for(self, service_name: str) -> str:
        return self.fluent_tag or f"{service_name}.log"


def load_settings() -> TelemetrySettings:
    """Fresh settings from the environment (not cached: tests and benchmarks change it)."""
    return TelemetrySettings()
