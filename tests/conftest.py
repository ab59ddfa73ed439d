"""Shared fixtures: the real local stack, brought up through the same code as `soundcheck up`.

By default the session starts whatever parts are not already running and, at the end, stops
exactly those (so a developer's running stack is reused and left alone). Set
`SOUNDCHECK_TEST_STACK=running` to require an already-running stack and never start or stop
anything; set `SOUNDCHECK_KEEP_STACK=1` to leave started parts running after the tests.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import psutil
import pytest
from playwright.sync_api import BrowserContext
from rich.console import Console

from soundcheck.progress import PlainProgress
from soundcheck.settings import StackSettings, TestRunSettings, load_settings
from soundcheck.stack.part import State
from soundcheck.stack.stack import Stack
from tests.support.browser import ARTIFACTS, SAVED_SCREENSHOTS, launch_chromium


@pytest.fixture(scope="session")
def settings() -> StackSettings:
    return load_settings()


@pytest.fixture(scope="session")
def stack(settings: StackSettings) -> Iterator[Stack]:
    stack = Stack(settings)
    running = {s.name for s in stack.status() if s.state is State.RUNNING}
    if TestRunSettings().test_stack == "running":
        missing = sorted(set(stack.parts) - running)
        if missing:
            pytest.fail(f"SOUNDCHECK_TEST_STACK=running, but these parts are not up: {missing}")
        yield stack
        return
    stack.up(progress=PlainProgress(Console(file=sys.stderr)))
    yield stack
    if TestRunSettings().keep_stack:
        return
    started = [name for name in stack.parts if name not in running]
    if started:  # stop([]) would mean every part: leave a stack that was already up alone
        stack.stop(started)
    if not running:
        left = processes_using(str(settings.home))
        assert not left, f"processes left behind after stopping the stack: {left}"


def processes_using(path: str) -> list[str]:
    """Processes whose command line mentions `path` (our services all do)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if path in cmdline and proc.pid != os.getpid():
            found.append(f"{proc.pid}: {cmdline[:120]}")
    return found


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One headless Chromium per module (tests/support/browser.py); each test opens its own
    pages with `open_on_host`. Not per session: Playwright's sync API keeps an event loop
    running in the main thread while it lives, and every later `asyncio.run` (the pipeline's
    tests) would fail with "cannot be called from a running event loop"."""
    with launch_chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SAVED_SCREENSHOTS:
        terminalreporter.write_sep("-", f"screenshots kept in {ARTIFACTS}")
        for path in SAVED_SCREENSHOTS:
            terminalreporter.write_line(f"  {path.name}")
