"""The instrumentation tests' small Flask app under real gunicorn, in a process of its own."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.polling import eventually
from tests.support.telemetry_peers import free_port

# The app and its gunicorn config live beside the tests that run them.
APP_DIR = Path(__file__).resolve().parents[1] / "integration" / "instrumentation"


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
                str(APP_DIR / "gunicorn_test_conf.py"),
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "5",
                "instrumented_app:app",
            ],
            cwd=APP_DIR,
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
