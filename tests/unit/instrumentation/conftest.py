"""Fixtures for instrumentation unit tests: protocol peers and a clean logging setup."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from instrumentation.logs import LoggingSetup
from tests.support.telemetry_peers import ForwardPeer


@pytest.fixture
def forward_peer() -> Iterator[ForwardPeer]:
    peer = ForwardPeer().start()
    yield peer
    peer.stop()


@pytest.fixture
def logging_to(request: pytest.FixtureRequest) -> Iterator[list[LoggingSetup]]:
    """Call `configure_logging` through this list's owner; every setup is closed afterwards."""
    setups: list[LoggingSetup] = []
    yield setups
    for setup in setups:
        setup.close()
