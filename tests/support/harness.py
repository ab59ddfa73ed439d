"""Extra router and Alertmanager processes beside the stack's, for tests, drills and the benchmark.

A test that kills a router or needs short Alertmanager timings runs its own pair here, with its
own data directory and ports, and leaves the stack's router alone.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from soundcheck.settings import StackSettings, TestRunSettings
from soundcheck.stack.part import find_binary
from soundcheck.stack.parts import router as router_part
from soundcheck.stack.process import ManagedProcess
from soundcheck.stack.stack import Stack
from tests.support.polling import eventually

# How long a process of the harness may take to answer its readiness check: a router took 37 s
# on this shared machine at a load average of 25 (imports), so 30 s failed tests that were right.
STARTED_WITHIN = 90.0


def spare_port(settings: StackSettings, near: int) -> int:
    """The first port from `near` up that no stack part is configured for and nothing listens
    on: for the harness's own router and Alertmanager, which run beside the stack's."""
    taken = {value for name, value in settings if name.endswith("_port")}
    for port in range(near, near + 200):
        if port in taken:
            continue
        with socket.socket() as probe:
            if probe.connect_ex((settings.host, port)) != 0:
                return port
    raise RuntimeError(f"no free port in {near}..{near + 199} on {settings.host}")


def router_environment(
    settings: StackSettings, port: int, home: Path, token: str
) -> dict[str, str]:
    """A router talking to the stack's sandbox and Prometheus, with its own database."""
    return router_part.router_environment(
        settings, port, home / "router.db", f"harness:{port}", SOUNDCHECK_ROUTER_TOKEN=token
    )


def answers_ready(process: ManagedProcess, ready_url: str, name: str) -> bool:
    """Whether `ready_url` answers 200; a process that died fails at once, with its log."""
    if not process.is_alive():
        raise RuntimeError(f"{name} exited: {process.log_tail(20)}")
    try:
        return httpx.get(ready_url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def stop_unless_ready(process: ManagedProcess, wait: Callable[[], object]) -> None:
    """Wait; a process that never got ready is stopped, not left running after the test."""
    try:
        wait()
    except BaseException:
        process.stop()
        raise


class RouterProcess:
    """`python -m router` in its own directory; `kill()` is a SIGKILL, as a crash."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home = home
        self.env = env
        self.process = ManagedProcess(home)
        self.url = f"http://{env['SOUNDCHECK_ROUTER_HOST']}:{env['SOUNDCHECK_ROUTER_PORT']}"

    def start(self, within: float = STARTED_WITHIN) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.process.start([sys.executable, "-m", "router"], env=self.env)
        what = f"router at {self.url} ready; log: {self.process.log_file}"
        stop_unless_ready(self.process, lambda: eventually(self.ready, within, what))

    def ready(self) -> bool:
        return answers_ready(self.process, f"{self.url}/readyz", "the router")

    def kill(self) -> None:
        self.process.kill()
        self.process.forget()

    def stop(self) -> None:
        self.process.stop()


ALERTMANAGER_CONFIG = """route:
  receiver: router
  group_by: [alertname]
  group_wait: {group_wait}
  group_interval: {group_interval}
  repeat_interval: {repeat_interval}
{routes}receivers:
  - name: router
    webhook_configs:
      - url: "{router_url}/alerts"
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials_file: "{token_file}"
{extra}"""


@contextmanager
def parts_up(settings: StackSettings, names: list[str]) -> Iterator[Stack]:
    """The named stack parts running; those this started are stopped after (unless kept)."""
    with Stack(settings).parts_up(names, keep=TestRunSettings().keep_stack) as stack:
        yield stack


class AlertmanagerProcess:
    """A real Alertmanager with short timings, sending to one router (and optionally natively)."""

    def __init__(
        self,
        home: Path,
        port: int,
        router_url: str,
        token: str,
        host: str = "127.0.0.1",
        timings: tuple[str, str, str] = ("1s", "2s", "10s"),
        extra_receivers: str = "",
        routes: str = "",
    ) -> None:
        self.home = home
        self.port = port
        self.host = host
        self.url = f"http://{host}:{port}"
        self.router_url = router_url
        self.token = token
        self.timings = timings
        self.extra = extra_receivers
        self.routes = routes
        self.process = ManagedProcess(home)

    def config(self) -> str:
        token_file = self.home / "token"
        token_file.write_text(self.token)
        os.chmod(token_file, 0o600)
        wait, interval, repeat = self.timings
        return ALERTMANAGER_CONFIG.format(
            group_wait=wait,
            group_interval=interval,
            repeat_interval=repeat,
            router_url=self.router_url,
            token_file=token_file,
            extra=self.extra,
            routes=self.routes,
        )

    def start(self, within: float = STARTED_WITHIN) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "alertmanager.yml").write_text(self.config())
        binary = find_binary("prometheus-alertmanager", "prometheus-alertmanager", "alertmanager")
        self.process.start(
            [
                binary,
                f"--config.file={self.home / 'alertmanager.yml'}",
                f"--storage.path={self.home / 'data'}",
                f"--web.listen-address={self.host}:{self.port}",
                "--cluster.listen-address=",
            ]
        )
        what = f"alertmanager at {self.url} ready"
        stop_unless_ready(self.process, lambda: eventually(self.ready, within, what))

    def ready(self) -> bool:
        return answers_ready(self.process, f"{self.url}/-/ready", "alertmanager")

    def post_alerts(self, alerts: list[dict[str, object]]) -> None:
        httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=5).raise_for_status()

    def stop(self) -> None:
        self.process.stop()
