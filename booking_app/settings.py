"""The booking service's settings: addresses, pool sizes and every timing tests shorten.

Read from `BOOKING_*` environment variables; the stack part (`soundcheck/stack/parts/booking.py`)
sets the addresses from the stack settings, so one stack's service never talks to another's.
`GunicornSettings` (same prefix) is what the gunicorn master reads (`gunicorn_conf.py`).
"""

from __future__ import annotations

from functools import cache

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from instrumentation.settings_contract import StrictSettings

ENV_PREFIX = "BOOKING_"


class BookingSettings(StrictSettings):
    """The booking service's web workers and background worker (`python -m booking_app`)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)

    # --- addresses -----------------------------------------------------------------------
    database_url: SecretStr = SecretStr(
        "mysql+pymysql://soundcheck:soundcheck@127.0.0.1:3306/soundcheck"
    )
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = Field(0, description="a separate database number isolates a test instance")
    redis_sentinels: str = Field(
        "", description="comma-separated host:port of Redis Sentinels; empty = plain Redis"
    )
    redis_sentinel_master: str = "soundcheck"
    kafka_bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = Field("", description="prefixes topics and consumer groups")
    admin_token: SecretStr = Field(
        SecretStr(""), description="bearer token of the admin API; empty disables the admin API"
    )

    # --- queue (B1) ----------------------------------------------------------------------
    max_active_tokens: int = 50
    activation_interval_seconds: float = 10.0
    active_token_ttl_seconds: float = 600.0
    waiting_token_ttl_seconds: float = Field(
        120.0,
        description="a WAITING token expires this long after it was issued or last polled "
        "(GET /queue/status), so abandoned tokens never hold the queue up",
    )

    # --- requests (B12) ------------------------------------------------------------------
    max_body_bytes: int = Field(
        1_048_576, description="a request body above this is refused with 413, unread"
    )

    # --- cache (B2) ----------------------------------------------------------------------
    cache_ttl_seconds: float = Field(5.0, description="bounds staleness if an eviction is lost")

    # --- locks (B3, plan 4-2) ------------------------------------------------------------
    lock_ttl_ms: int = 3000
    lock_wait_ms: int = 2000
    lock_retry_ms: int = 30
    hold_ttl_seconds: float = Field(300.0, description="an unpaid reservation expires after")
    hold_sweep_interval_seconds: float = 1.0

    # --- circuit breaker around Redis (B8, plan 4-4) ---------------------------------------
    redis_timeout_seconds: float = 3.0
    breaker_error_threshold_percent: float = 50.0
    breaker_reset_seconds: float = 30.0
    breaker_volume_threshold: int = 10
    breaker_window_seconds: float = 10.0

    # --- database pool (B10, plan 4-2) ----------------------------------------------------
    pool_size: int = Field(
        16,
        description="connections per process; no more than BOOKING_THREADS, the threads that "
        "use them, so a pool in full use means every request thread holds one",
    )
    pool_max_overflow: int = 0
    pool_queue_limit: int = 100
    pool_acquire_timeout_seconds: float = 5.0
    lock_wait_timeout_seconds: int = Field(
        5,
        ge=1,
        description="MariaDB's innodb_lock_wait_timeout for the service's sessions: a request "
        "waiting this long on a row lock answers 503 (plan FP#2: fail fast, not after 50 s)",
    )

    # --- events (B7) ---------------------------------------------------------------------
    relay_interval_seconds: float = 0.2
    relay_batch_size: int = 200
    kafka_delivery_timeout_ms: int = 10000

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


class GunicornSettings(StrictSettings):
    """The booking service's gunicorn master (`booking_app/gunicorn_conf.py`)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)

    bind: str = Field("127.0.0.1:8000", description="host:port gunicorn listens on (port 0: any)")
    workers: int = Field(3, ge=1, description="gthread worker processes")
    threads: int = Field(16, ge=1, description="threads per worker")
    run_worker: bool = Field(
        True, description="start the background worker (relay, consumers, timers) beside gunicorn"
    )
    metrics_bind: str = Field(
        "",
        description="host:port of a process serving /metrics beside gunicorn, where a scrape "
        "cannot queue behind requests; empty: /metrics only on the app's own port",
    )


@cache
def load_settings() -> BookingSettings:
    return BookingSettings()
