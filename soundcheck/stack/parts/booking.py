"""The booking service: gunicorn (several gthread workers) plus its background worker process.

`python -m booking_app serve` waits for MariaDB, applies the Alembic migrations, seeds an empty
database, then becomes gunicorn; gunicorn's master starts `python -m booking_app worker` (outbox
relay, Kafka consumers, activation and expiry timers). Addresses come from the stack settings.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from booking_app.settings import BookingSettings, GunicornSettings
from instrumentation.settings import TelemetrySettings
from instrumentation.settings_contract import child_environment
from soundcheck.settings import StackSettings
from soundcheck.stack.part import NotReady, Part, expect_http_ok
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.process import ManagedProcess
from soundcheck.stack.telemetry import telemetry_environment

# The settings classes a booking process reads: gunicorn's master, the web and worker processes.
BOOKING_READS = (BookingSettings, GunicornSettings, TelemetrySettings)
BOOKING_DRIVER = "pymysql"


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


def database_url(s: StackSettings, database: str, driver: str = BOOKING_DRIVER) -> str:
    password = s.mariadb_password.get_secret_value()
    return (
        f"mysql+{driver}://{s.mariadb_user}:{password}@{s.host}:{s.mariadb_port}/{database}"
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


MAX_INSTANCES = 9  # StackSettings.booking_instances' bound
INSTANCE_PORT_STEP = 10  # instance k listens on booking_port + 10 (k - 1), likewise its metrics


def instance_ports(settings: StackSettings, number: int) -> tuple[int, int]:
    """The app port and the metrics port of booking instance `number` (1-based)."""
    shift = INSTANCE_PORT_STEP * (number - 1)
    return settings.booking_port + shift, settings.booking_metrics_port + shift


class Booking(Part):
    """Booking instance 1, and with `booking_instances` > 1 the others (`booking-2`, ...).

    Every instance shares the stack's MariaDB, Redis, Kafka topics and admin token, as copies
    on several machines would; only instance 1 migrates the schema first and runs the
    background worker (relay, consumers, timers): one relay per outbox, one set of timers.
    """

    name = "booking"

    def __init__(self, settings: StackSettings, number: int = 1) -> None:
        self.number = number
        if number > 1:
            self.name = f"booking-{number}"
        super().__init__(settings)
        self.port, self.metrics_port = instance_ports(settings, number)

    @classmethod
    def instances(cls, settings: StackSettings) -> Sequence[Part]:
        """The instances asked for, and any started earlier with a larger setting and still
        recorded as running, so `soundcheck down` and `status` never lose one."""
        wanted = booking_parts(settings)
        earlier = (cls(settings, k) for k in range(len(wanted) + 1, MAX_INSTANCES + 1))
        return [*wanted, *(part for part in earlier if part.process.was_started())]

    def port_settings(self) -> dict[str, int]:
        return {"booking_port": self.port, "booking_metrics_port": self.metrics_port}

    def address(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def metrics_address(self) -> str:
        return f"http://{self.settings.host}:{self.metrics_port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "booking_app", "serve"]

    def prepare(self) -> None:
        if self.number > 1:  # instance 1 migrates and seeds; the others wait for it
            first = Booking(self.settings)
            deadline = time.monotonic() + self.settings.start_timeout_seconds
            while True:
                try:
                    first.probe()
                    return
                except NotReady:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)

    def environment(self) -> dict[str, str]:
        s = self.settings
        shared = {
            "BOOKING_ADMIN_TOKEN": ensure_admin_token(s.part_dir("booking") / "admin_token", s),
            "BOOKING_METRICS_BIND": f"{s.host}:{self.metrics_port}",
            "BOOKING_RUN_WORKER": str(self.number == 1).lower(),
        }
        return booking_environment(s, self.dir, self.port, overrides=shared)

    def probe(self) -> str:
        expect_http_ok(f"{self.address()}/health", timeout=2.0)
        expect_http_ok(f"{self.metrics_address()}/metrics", timeout=2.0)
        return "booking_app"


def booking_parts(settings: StackSettings) -> list[Booking]:
    """Every booking instance the settings ask for, instance 1 first."""
    return [Booking(settings, k) for k in range(1, settings.booking_instances + 1)]


def fresh_database(settings: StackSettings, database: str) -> None:
    """An empty database next to the stack's own (tests and benchmarks run side instances)."""
    with app_connection(settings) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
        cursor.execute(f"CREATE DATABASE `{database}`")


def expire_queue_tokens(settings: StackSettings, user_prefix: str) -> int:
    """Expire the WAITING and ACTIVE queue tokens of the users whose id starts with `user_prefix`
    (a load run's, a drill's, a test's), as the service's own expiry does; returns how many.
    Their users no longer hold the queue's ACTIVE places (BOOKING_MAX_ACTIVE_TOKENS) for a
    token's lifetime; the service's activation timer lets the next waiting users in."""
    if not user_prefix:
        raise ValueError("A user prefix is needed: an empty one would expire every user's token.")
    literal = user_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    with (
        app_connection(settings, settings.mariadb_database) as conn,
        conn.cursor() as cursor,
    ):
        return int(
            cursor.execute(
                "UPDATE queue_tokens SET status = 'EXPIRED', expires_at = UTC_TIMESTAMP(6) "
                "WHERE user_id LIKE %s AND status IN ('WAITING', 'ACTIVE')",
                (f"{literal}%",),
            )
        )


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
