"""Fixtures for instrumentation against the real stack (MariaDB, Redis, Kafka) and real gunicorn."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from soundcheck.progress import PlainProgress
from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.polling import eventually
from tests.support.telemetry_peers import ForwardPeer, ForwardPeerProcess, OtlpPeer, free_port

HERE = Path(__file__).resolve().parent

PARTS = ["mariadb", "redis", "kafka"]


@pytest.fixture(scope="session")
def stack(settings: StackSettings) -> Iterator[Stack]:
    """Only the parts instrumentation needs; parts already running are reused and left alone."""
    with Stack(settings).parts_up(
        PARTS,
        PlainProgress(Console(file=sys.stderr)),
        keep=os.environ.get("SOUNDCHECK_KEEP_STACK") == "1",
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


class Gunicorn:
    """The test app under real gunicorn with `workers` sync workers; stdout kept in a file."""

    def __init__(self, env: dict[str, str], workers: int, log_path: Path) -> None:
        self.metrics_dir = Path(env["PROMETHEUS_MULTIPROC_DIR"])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(HERE / "gunicorn_test_conf.py"),
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "5",
                "instrumented_app:app",
            ],
            cwd=HERE,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, within: float = 60) -> None:
        eventually(self.answers, within, "gunicorn answers /pid")

    def answers(self) -> bool:
        assert self.process.poll() is None, self.log_path.read_text()[-3000:]
        try:
            return httpx.get(self.url + "/pid", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def get(self, path: str) -> tuple[int, bytes]:
        """One request on a fresh connection (sync workers close it anyway); cheap on the
        client side, so latency measured is the server's."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def metrics(self) -> str:
        status, body = self.get("/metrics")
        assert status == 200
        return body.decode()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


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
            "PYTHONPATH": str(HERE),  # the test app; every package of ours is installed
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
