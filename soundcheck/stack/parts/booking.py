"""The booking service: gunicorn (several gthread workers) plus its background worker process.

`python -m booking_app serve` waits for MariaDB, applies the Alembic migrations, seeds an empty
database, then becomes gunicorn; gunicorn's master starts `python -m booking_app worker` (outbox
relay, Kafka consumers, activation and expiry timers). Addresses come from the stack settings.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from booking_app.settings import BookingSettings, GunicornSettings
from instrumentation.settings import TelemetrySettings
from instrumentation.settings_contract import child_environment
from soundcheck.settings import StackSettings
from soundcheck.stack.part import Part, expect_http_ok
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.process import ManagedProcess
from soundcheck.stack.telemetry import telemetry_environment

# The settings classes a booking process reads: gunicorn's master, the web and worker processes.
BOOKING_READS = (BookingSettings, GunicornSettings, TelemetrySettings)


def ensure_admin_token(path: Path, settings: StackSettings) -> str:
    """The admin API's bearer token: from SOUNDCHECK_BOOKING_ADMIN_TOKEN, else made once (0600)."""
    wanted = settings.booking_admin_token
    if wanted is not None:
        return wanted.get_secret_value()
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as token_file:
        token_file.write(token)
    return token


def database_url(s: StackSettings, database: str) -> str:
    password = s.mariadb_password.get_secret_value()
    return (
        f"mysql+pymysql://{s.mariadb_user}:{password}@{s.host}:{s.mariadb_port}/{database}"
        "?charset=utf8mb4"
    )


def booking_environment(
    settings: StackSettings,
    directory: Path,
    port: int,
    database: str | None = None,
    overrides: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """What a booking process needs to find this stack's MariaDB, Redis, Kafka and pipeline.

    `overrides` are more variables for the child (tests shorten timings), checked the same way.
    """
    s = settings
    values: dict[str, object] = {
        "BOOKING_BIND": f"{s.host}:{port}",
        "BOOKING_DATABASE_URL": database_url(s, database or s.mariadb_database),
        "BOOKING_REDIS_HOST": s.host,
        "BOOKING_REDIS_PORT": s.redis_port,
        "BOOKING_KAFKA_BOOTSTRAP": f"{s.host}:{s.kafka_port}",
        "BOOKING_ADMIN_TOKEN": ensure_admin_token(directory / "admin_token", s),
        "PROMETHEUS_MULTIPROC_DIR": directory / "metrics",
        **telemetry_environment(s),
        **(overrides or {}),
    }
    return child_environment(BOOKING_READS, values)


class Booking(Part):
    name = "booking"

    def port_settings(self) -> dict[str, int]:
        return {"booking_port": self.settings.booking_port}

    def address(self) -> str:
        return f"http://{self.settings.host}:{self.settings.booking_port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "booking_app", "serve"]

    def environment(self) -> dict[str, str]:
        return booking_environment(self.settings, self.dir, self.settings.booking_port)

    def probe(self) -> str:
        expect_http_ok(f"{self.address()}/health", timeout=2.0)
        return "booking_app"


def fresh_database(settings: StackSettings, database: str) -> None:
    """An empty database next to the stack's own (tests and benchmarks run side instances)."""
    with app_connection(settings) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
        cursor.execute(f"CREATE DATABASE `{database}`")


def drop_database(settings: StackSettings, database: str) -> None:
    with app_connection(settings) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")


def spawn_booking(
    settings: StackSettings,
    directory: Path,
    port: int,
    database: str,
    overrides: Mapping[str, object],
) -> tuple[ManagedProcess, dict[str, str]]:
    """Start one more booking service (gunicorn + worker) on `port` against `database`."""
    env = booking_environment(settings, directory, port, database, overrides)
    process = ManagedProcess(directory)
    process.stop()
    process.start([sys.executable, "-m", "booking_app", "serve"], env=env)
    return process, env
