"""Crashed vs stopped vs running, on a real (tiny) process: Python's own HTTP server."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import httpx
import pytest

from soundcheck.settings import StackSettings
from soundcheck.stack.errors import StartFailed
from soundcheck.stack.part import NotReady, Part, State
from soundcheck.stack.ports import port_is_open
from soundcheck.stack.stack import Stack


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WebServer(Part):
    """A stand-in part for the process bookkeeping only; the real parts are tested elsewhere."""

    name = "web"
    port = 0

    def port_settings(self) -> dict[str, int]:
        return {"web_port": self.port}

    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1"]

    def probe(self) -> str:
        try:
            httpx.get(self.address(), timeout=0.5)
        except httpx.HTTPError as error:
            raise NotReady(str(error)) from error
        return "1"


class BrokenServer(WebServer):
    name = "broken"

    def command(self) -> list[str]:
        return [sys.executable, "-c", "import sys; print('bad config: no such file'); sys.exit(3)"]


@pytest.fixture
def stack(tmp_path: Path) -> Stack:
    WebServer.port = free_port()
    return Stack(StackSettings(home=tmp_path), [WebServer, BrokenServer])


def state(stack: Stack, name: str = "web") -> State:
    return stack.part(name).status().state


def test_never_started_is_stopped(stack: Stack) -> None:
    assert state(stack) is State.STOPPED


def test_up_waits_for_the_health_check_and_stop_frees_the_port(stack: Stack) -> None:
    [status] = stack.up(["web"])
    assert status.state is State.RUNNING
    assert port_is_open("127.0.0.1", WebServer.port)
    stack.stop(["web"])
    assert state(stack) is State.STOPPED
    assert not port_is_open("127.0.0.1", WebServer.port)


def test_killed_process_is_crashed_not_stopped(stack: Stack) -> None:
    stack.up(["web"])
    stack.kill("web")
    assert state(stack) is State.CRASHED
    [status] = stack.up(["web"])  # up restarts a crashed part
    assert status.state is State.RUNNING
    stack.stop(["web"])


def test_recycled_pid_is_not_mistaken_for_our_process(stack: Stack) -> None:
    part = stack.part("web")
    part.dir.mkdir(parents=True)
    # Our own pid, but with another start time: a pid reused by an unrelated process.
    part.process.pid_file.write_text(
        json.dumps({"pid": os.getpid(), "create_time": 1.0, "started_at": 1.0})
    )
    assert state(stack) is State.CRASHED


def test_a_wall_clock_step_does_not_make_a_running_part_look_crashed(stack: Stack) -> None:
    """A VM paused and resumed (or NTP stepping the clock) moves every process's wall-clock start
    time; its start in ticks after boot stays, and tells our process from a recycled pid."""
    stack.up(["web"])
    part = stack.part("web")
    try:
        record = json.loads(part.process.pid_file.read_text())
        record["create_time"] -= 600.0  # as psutil reports it after the clock moved 10 minutes
        part.process.pid_file.write_text(json.dumps(record))
        assert state(stack) is State.RUNNING
        record["start_ticks"] += 1  # another process that got the same pid
        part.process.pid_file.write_text(json.dumps(record))
        assert state(stack) is State.CRASHED
        record["start_ticks"] -= 1
        part.process.pid_file.write_text(json.dumps(record))
    finally:
        stack.stop(["web"])
    assert state(stack) is State.STOPPED


def test_part_that_exits_at_start_fails_up_with_its_last_output(stack: Stack) -> None:
    with pytest.raises(StartFailed) as error:
        stack.up(["broken"])
    assert "broken exited while starting" in str(error.value)
    assert "bad config: no such file" in str(error.value)
    assert state(stack, "broken") is State.CRASHED


def test_stopping_an_empty_list_of_parts_stops_nothing(stack: Stack) -> None:
    stack.up(["web"])
    stack.stop([])  # e.g. a fixture that started nothing itself: the running part stays up
    assert state(stack) is State.RUNNING
    stack.stop(["web"])


class SlowStarter(WebServer):
    """Listens only after a second of start-up work (gunicorn importing the app, say)."""

    name = "slow"

    def command(self) -> list[str]:
        serve = f"import time; time.sleep(1); from http.server import test; test(port={self.port})"
        return [sys.executable, "-c", serve]


class Judge(WebServer):
    """Stands in for Prometheus: records whether the slow part answered when it was started."""

    name = "judge"
    starts_last = True
    judge_port = 0
    saw_slow_up: bool | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "http.server", str(self.judge_port), "--bind", "127.0.0.1"]

    def address(self) -> str:
        return f"http://127.0.0.1:{self.judge_port}"

    def start(self) -> None:
        Judge.saw_slow_up = port_is_open("127.0.0.1", SlowStarter.port)
        super().start()


def test_a_part_that_starts_last_waits_for_every_other_part_to_answer(tmp_path: Path) -> None:
    SlowStarter.port, Judge.judge_port = free_port(), free_port()
    Judge.saw_slow_up = None
    stack = Stack(StackSettings(home=tmp_path), [Judge, SlowStarter])  # the judge listed first
    try:
        statuses = stack.up()
        assert {s.state for s in statuses} == {State.RUNNING}
        assert Judge.saw_slow_up is True, "the judge started before the slow part answered"
    finally:
        stack.stop()
