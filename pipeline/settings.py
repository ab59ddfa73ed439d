"""The pipeline's settings, read from `SOUNDCHECK_PIPELINE_*` (the stack part sets them)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from instrumentation.settings_contract import StrictSettings


class PipelineSettings(StrictSettings):
    """The pipeline (`python -m pipeline`): where it listens, buffers, and finds Elasticsearch."""

    model_config = SettingsConfigDict(env_prefix="SOUNDCHECK_PIPELINE_")

    host: str = "127.0.0.1"
    forward_port: int = 24224
    otlp_port: int = 4318
    metrics_port: int = Field(24231, description="/metrics alone, as fluent-plugin-prometheus")
    elasticsearch_url: str = "http://127.0.0.1:9200"
    buffer_dir: Path = Path(".soundcheck/pipeline/buffer")

    buffer_max_bytes: int = Field(
        512 * 1024 * 1024, description="unindexed bytes on disk before receivers stop accepting"
    )
    segment_max_bytes: int = Field(32 * 1024 * 1024, description="size at which a segment rolls")
    max_frame_bytes: int = Field(
        16 * 1024 * 1024, description="largest forward-protocol message or OTLP body accepted"
    )
    sync_interval_seconds: float = Field(
        1.0, description="how often records without a chunk ack are fsynced anyway"
    )
    bulk_max_bytes: int = 4 * 1024 * 1024
    bulk_max_documents: int = 5000
    bulk_concurrency: int = Field(2, description="bulk requests in flight (committed in order)")
    flush_interval_seconds: float = Field(
        0.2, description="how long a bulk smaller than a full one waits for more records"
    )
    retry_initial_seconds: float = 0.5
    retry_max_seconds: float = 10.0
    request_timeout_seconds: float = 30.0
    retention_days: int = 30
    sweep_interval_seconds: float = 3600.0
