"""The parts the router's integration tests need: the sandbox (and Prometheus for graphs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.client import SandboxClient
from sandbox.harness import parts_up
from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack

NEEDED = ["prometheus", "alertmanager", "sandbox", "router"]


@pytest.fixture(scope="session")
def router_parts(settings: StackSettings) -> Iterator[Stack]:
    with parts_up(settings, NEEDED) as stack:
        yield stack


@pytest.fixture
def sandbox(router_parts: Stack, settings: StackSettings) -> SandboxClient:
    client = SandboxClient(router_parts.part("sandbox").address())
    client.reset()
    return client
