"""The parts the router's integration tests need: the sandbox (and Prometheus for graphs)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings
from soundcheck.stack.part import State
from soundcheck.stack.stack import Stack

NEEDED = ["prometheus", "sandbox", "router"]


@pytest.fixture(scope="session")
def router_parts(settings: StackSettings) -> Iterator[Stack]:
    stack = Stack(settings)
    running = {s.name for s in stack.status(NEEDED) if s.state is State.RUNNING}
    stack.up(NEEDED)
    yield stack
    if os.environ.get("SOUNDCHECK_KEEP_STACK") != "1":
        stack.stop([n for n in NEEDED if n not in running])


@pytest.fixture
def sandbox(router_parts: Stack, settings: StackSettings) -> SandboxClient:
    client = SandboxClient(router_parts.part("sandbox").address())
    client.reset()
    return client
