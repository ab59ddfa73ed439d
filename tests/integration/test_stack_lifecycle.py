"""`soundcheck` commands against the real stack: status, stop, start, crash, idempotent up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from soundcheck.settings import StackSettings
from soundcheck.stack.ports import port_is_open
from soundcheck.stack.stack import PART_TYPES, Stack

pytestmark = pytest.mark.usefixtures("stack")
PARTS = [part.name for part in PART_TYPES]  # every part, in start order; one list to keep


def soundcheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "soundcheck.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def states() -> dict[str, str]:
    result = soundcheck("status", "--json")
    assert result.returncode == 0, result.stderr
    return {part["name"]: part["state"] for part in json.loads(result.stdout)}


def test_status_json_lists_every_part_running() -> None:
    result = soundcheck("status", "--json")
    parts = json.loads(result.stdout)
    assert [p["name"] for p in parts] == PARTS
    assert {p["state"] for p in parts} == {"running"}
    assert all(p["address"] and p["version"] for p in parts)


def test_up_again_changes_nothing(stack: Stack) -> None:
    pids = {s.name: s.pid for s in stack.status()}
    result = soundcheck("up")
    assert result.returncode == 0, result.stderr
    assert {s.name: s.pid for s in stack.status()} == pids
    assert "already running" in result.stdout


def test_stop_then_start_a_single_part(settings: StackSettings) -> None:
    assert soundcheck("stop", "redis").returncode == 0
    assert states()["redis"] == "stopped"
    assert not port_is_open(settings.host, settings.redis_port)
    assert states()["mariadb"] == "running"  # the others are untouched

    result = soundcheck("start", "redis")
    assert result.returncode == 0, result.stderr
    assert states()["redis"] == "running"


def test_status_tells_a_crash_from_a_stop(settings: StackSettings) -> None:
    assert soundcheck("kill", "redis").returncode == 0
    assert states()["redis"] == "crashed"
    text = soundcheck("status", "redis").stdout
    assert "exited without being stopped" in text

    result = soundcheck("up", "redis")  # up starts a crashed part again
    assert result.returncode == 0, result.stderr
    assert states()["redis"] == "running"
    assert port_is_open(settings.host, settings.redis_port)


def test_unknown_part_is_a_clear_error() -> None:
    result = soundcheck("stop", "memcached")
    assert result.returncode == 1
    assert "no part called 'memcached'" in result.stderr


def test_logs_prints_the_part_output(stack: Stack) -> None:
    """The last lines, however much the suite's other tests logged after the start (a CI run's
    killed clients once pushed "ready for connections" out of the last 200 lines)."""
    log_file = stack.part("mariadb").process.log_file
    before = len(log_file.read_text(errors="replace").splitlines())
    result = soundcheck("logs", "mariadb", "-n", "3")
    assert result.returncode == 0, result.stderr
    after = log_file.read_text(errors="replace").splitlines()
    # The last three lines when it ran: MariaDB may log a line meanwhile.
    ends = range(before, len(after) + 1)
    assert any(result.stdout.splitlines() == after[end - 3 : end] for end in ends)

    whole = soundcheck("logs", "mariadb", "-n", str(len(after) + 10))
    assert "ready for connections" in whole.stdout


def test_alertmanager_starts_once_the_router_is_ready(stack: Stack) -> None:
    """Started together, Alertmanager's first posts (the Watchdog's) reached a router still
    starting; the failed posts kept AlertDeliveriesFailing firing for five minutes."""
    router = stack.part("router").process.record()
    alertmanager = stack.part("alertmanager").process.record()
    assert router is not None
    assert alertmanager is not None
    assert alertmanager.started_at > router.started_at
