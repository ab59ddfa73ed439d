"""The parts the router's integration tests need (the sandbox, Prometheus for graphs), and the
router's settings pointed at them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from router.settings import RouterSettings
from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.harness import parts_up, router_environment

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


@pytest.fixture
def router_settings(
    settings: StackSettings, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> RouterSettings:
    for name, value in router_environment(settings, 1, tmp_path, "t").items():
        monkeypatch.setenv(name, value)
    return RouterSettings()
