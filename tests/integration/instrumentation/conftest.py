"""Fixtures for instrumentation against the real stack (MariaDB, Redis, Kafka) and real gunicorn."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from rich.console import Console

from soundcheck.progress import PlainProgress
from soundcheck.settings import StackSettings, TestRunSettings
from soundcheck.stack.stack import Stack
from tests.support.gunicorn_app import APP_DIR, Gunicorn
from tests.support.telemetry_peers import ForwardPeer, ForwardPeerProcess, OtlpPeer

PARTS = ["mariadb", "redis", "kafka"]


@pytest.fixture(scope="session")
def stack(settings: StackSettings) -> Iterator[Stack]:
    """Only the parts instrumentation needs; parts already running are reused and left alone."""
    with Stack(settings).parts_up(
        PARTS,
        PlainProgress(Console(file=sys.stderr)),
        keep=TestRunSettings().keep_stack,
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def forward_peer() -> Iterator[ForwardPeer]:
    peer = ForwardPeer().start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def otlp_peer() -> Iterator[OtlpPeer]:
    peer = OtlpPeer()
    yield peer
    peer.close()


@pytest.fixture(scope="module")
def start_app(
    settings: StackSettings,
    stack: Stack,
    otlp_peer: OtlpPeer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[object]:
    """`start_app(forward_peer, workers=3, **env)` → a running Gunicorn; stopped afterwards."""
    started: list[Gunicorn] = []
    tmp_path = tmp_path_factory.mktemp("gunicorn")

    def start(
        forward: ForwardPeer | ForwardPeerProcess, workers: int = 3, **extra: str
    ) -> Gunicorn:
        password = settings.mariadb_password.get_secret_value()
        env = {
            **os.environ,
            "PYTHONPATH": str(APP_DIR),  # the test app; every package of ours is installed
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{len(started)}"),
            "TEST_DATABASE_URL": (
                f"mysql+pymysql://{settings.mariadb_user}:{password}@{settings.host}:"
                f"{settings.mariadb_port}/{settings.mariadb_database}"
            ),
            "TEST_REDIS_PORT": str(settings.redis_port),
            "TEST_SECRET_PASSWORD": "pa55-word-never-logged",
            "SOUNDCHECK_ROUTER_TOKEN": "router-token-never-logged",
            "SOUNDCHECK_INSTRUMENTATION": "on",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_peer.endpoint,
            "SOUNDCHECK_FLUENT_HOST": "127.0.0.1",
            "SOUNDCHECK_FLUENT_PORT": str(forward.port),
            "SOUNDCHECK_LOG_RETRY_MAX_SECONDS": "0.5",
            **extra,
        }
        app = Gunicorn(env, workers, tmp_path / f"gunicorn-{len(started)}.log")
        started.append(app)
        app.wait_ready()
        return app

    yield start
    for app in started:
        app.stop()
