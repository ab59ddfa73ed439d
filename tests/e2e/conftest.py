"""End to end for the router: a real Alertmanager with short timings, a router of the test's own
(so it can be SIGKILLed and restarted), and the stack's sandbox and Prometheus."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.harness import (
    AlertmanagerProcess,
    RouterProcess,
    parts_up,
    router_environment,
    spare_port,
)
from tests.support.incident_console import CONSOLE_PASSWORD

NEEDED = ["prometheus", "sandbox"]
# The incident page's evidence: a booking instance's error lines, shipped to Elasticsearch.
EVIDENCE_PARTS = ["mariadb", "redis", "kafka", "elasticsearch", "pipeline"]
PORT_STEP = 11  # the test's own router and Alertmanager listen beside the stack's


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


@pytest.fixture(scope="session")
def e2e_parts(settings: StackSettings) -> Iterator[Stack]:
    with parts_up(settings, NEEDED) as stack:
        yield stack


@pytest.fixture
def sandbox(e2e_parts: Stack) -> SandboxClient:
    client = SandboxClient(e2e_parts.part("sandbox").address())
    client.reset()
    return client


@pytest.fixture
def token() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture
def router_home(settings: StackSettings, tmp_path: Path) -> Path:
    return fresh_dir(settings.home / "e2e-router" / tmp_path.name)  # pytest reuses names


@pytest.fixture(scope="session")
def evidence_parts(settings: StackSettings) -> Iterator[Stack]:
    with parts_up(settings, EVIDENCE_PARTS) as stack:
        yield stack


@pytest.fixture
def alertmanager_port(settings: StackSettings) -> int:
    return spare_port(settings, settings.alertmanager_port + PORT_STEP)


@pytest.fixture
def store_busy_timeout() -> str:
    """The router's SQLite busy timeout in seconds ("" is the router's own default)."""
    return ""


@pytest.fixture
def router(
    settings: StackSettings,
    router_home: Path,
    token: str,
    sandbox: SandboxClient,
    alertmanager_port: int,
    store_busy_timeout: str,
) -> Iterator[RouterProcess]:
    env = router_environment(
        settings, spare_port(settings, settings.router_port + PORT_STEP), router_home, token
    )
    if store_busy_timeout:
        env["SOUNDCHECK_ROUTER_DATABASE_URL"] += f"?timeout={store_busy_timeout}"
    env.update(
        {
            "SOUNDCHECK_ROUTER_BACKOFF_INITIAL_SECONDS": "0.5",
            "SOUNDCHECK_ROUTER_BACKOFF_MAX_SECONDS": "4",
            "SOUNDCHECK_ROUTER_POLL_INTERVAL_SECONDS": "0.1",
            # Silences from the incident page go to the test's own Alertmanager.
            "SOUNDCHECK_ROUTER_ALERTMANAGER_URL": f"http://{settings.host}:{alertmanager_port}",
            "SOUNDCHECK_ROUTER_CONSOLE_PASSWORD": CONSOLE_PASSWORD,
        }
    )
    process = RouterProcess(router_home, env)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def alertmanager(
    settings: StackSettings,
    router: RouterProcess,
    token: str,
    tmp_path: Path,
    alertmanager_port: int,
) -> Iterator[AlertmanagerProcess]:
    process = AlertmanagerProcess(
        fresh_dir(settings.home / "e2e-alertmanager" / tmp_path.name),
        alertmanager_port,
        router.url,
        token,
        host=settings.host,
        timings=("1s", "2s", "8s"),
    )
    process.start()
    yield process
    process.stop()
