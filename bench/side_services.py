"""Booking services (and the plain form) started beside the stack's own for a benchmark: each on
a free port and a database of its own, ready when it answers /health."""

from __future__ import annotations

import socket
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import booking_environment, fresh_database
from soundcheck.stack.process import ManagedProcess
from tests.support.polling import eventually


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def wait_healthy(name: str, url: str, process: ManagedProcess) -> None:
    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    eventually(
        healthy,
        120,
        lambda: f"{name} answers /health; its log:\n{process.log_tail(30)}",
        every=0.3,
    )


def start_service(
    settings: StackSettings,
    side: str,
    overrides: Mapping[str, object],
    code: Path | None = None,
) -> tuple[str, ManagedProcess, str]:
    """(url, process, database) of one more booking service; `code`: run the booking_app found
    there (an older checkout, for a before/after in one run) instead of this one."""
    database = f"{settings.mariadb_database}_bench_{side}"
    fresh_database(settings, database)
    port = free_port(settings.host)
    directory = settings.home / "bench" / side
    env = booking_environment(
        settings,
        directory,
        port,
        database,
        {"BOOKING_RUN_WORKER": "0", "BOOKING_TOPIC_PREFIX": f"bench-{side}.", **overrides},
    )
    if code is not None:
        env["PYTHONPATH"] = str(code)
    process = ManagedProcess(directory)
    process.stop()
    process.start([sys.executable, "-m", "booking_app", "serve"], env=env)
    url = f"http://{settings.host}:{port}"
    wait_healthy(f"{side} service", url, process)
    return url, process, database
