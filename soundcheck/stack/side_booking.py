"""A booking service started beside the stack's own, for a drill or a test: the real app (gunicorn,
its metrics process, optionally its background worker) with settings of its own, e.g. on the
Redis Sentinel group (the redis-failover drill) or with shortened timings (tests).

Its port is chosen by the kernel as gunicorn binds (`:0`) and read back from the master's
listening socket. Picking a "free" port first and handing it over is a race: another process
(another stack or test session on this machine) can bind it in the seconds before gunicorn does,
our gunicorn then fails to bind, and the health check sees the other service's 200.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from soundcheck.settings import StackSettings
from soundcheck.stack.errors import StartFailed
from soundcheck.stack.parts.booking import spawn_booking
from soundcheck.stack.process import ManagedProcess

HEALTH_WITHIN_SECONDS = 120.0


@dataclass
class SideBooking:
    name: str
    url: str
    database: str
    process: ManagedProcess
    env: dict[str, str]


def side_directory(settings: StackSettings, group: str, name: str) -> Path:
    """Where a side instance keeps its pid file, log and metrics: `<home>/<group>/<name>`."""
    return settings.home / group / name


def listening_port(process: ManagedProcess) -> int | None:
    """The TCP port the instance's gunicorn master listens on, once it does (None before)."""
    proc = process.process()
    if proc is None:
        return None
    try:
        sockets = proc.net_connections(kind="tcp")
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    for sock in sockets:
        if sock.status == psutil.CONN_LISTEN:
            return int(sock.laddr.port)
    return None


def answers_health(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def start_side_booking(
    settings: StackSettings,
    directory: Path,
    database: str,
    overrides: Mapping[str, object],
    within: float = HEALTH_WITHIN_SECONDS,
) -> SideBooking:
    """Start a booking service against `database` with `overrides` (BOOKING_* variables) on a
    port the kernel picks, and wait until it answers /health; StartFailed (with its log) if it
    exits or does not answer within `within` seconds."""
    process, env = spawn_booking(
        settings,
        directory,
        0,
        database,
        {"BOOKING_METRICS_BIND": f"{settings.host}:0", **overrides},
    )
    deadline = time.monotonic() + within
    port: int | None = None
    while time.monotonic() < deadline:
        if not process.is_alive():
            raise StartFailed(
                f"The booking instance in {directory} exited:\n{process.log_tail(30)}"
            )
        port = port or listening_port(process)
        if port is not None and answers_health(f"http://{settings.host}:{port}"):
            url = f"http://{settings.host}:{port}"
            return SideBooking(directory.name, url, database, process, env)
        time.sleep(0.25)
    process.stop()
    raise StartFailed(
        f"The booking instance in {directory} did not answer /health within {within:g} s:\n"
        f"{process.log_tail(30)}"
    )
