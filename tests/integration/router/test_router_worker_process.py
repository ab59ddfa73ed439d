"""`python -m router` delivers from a child process: its metrics show on the router's /metrics,
and it never outlives the router (a SIGKILLed router must not leave a worker sending beside the
next one)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
from datetime import UTC, datetime

import httpx
import psutil

from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings
from tests.support.harness import RouterProcess, router_environment, spare_port
from tests.support.polling import eventually


def test_the_worker_process_reports_through_the_router_and_dies_with_it(
    settings: StackSettings, sandbox: SandboxClient
) -> None:
    home = settings.home / "router-worker-process"
    shutil.rmtree(home, ignore_errors=True)
    token = secrets.token_urlsafe(24)
    port = spare_port(settings, settings.router_port + 41)
    router = RouterProcess(home, router_environment(settings, port, home, token))
    router.start()
    parent = router.process.process()
    assert parent is not None
    try:
        (worker,) = [c for c in parent.children() if "--deliver" in c.cmdline()]
        eventually(
            lambda: worker.nice() > parent.nice(), 10, "the worker at a lower CPU priority"
        )  # so webhooks get the CPU first

        name = f"WorkerProcess{secrets.token_hex(3)}"
        body = {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{name}"}}',
            "status": "firing",
            "receiver": "router",
            "externalURL": "http://alertmanager",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": name, "priority": "P3"},
                    "annotations": {"summary": "sent by the child process"},
                    "startsAt": datetime.now(UTC).isoformat(),
                    "fingerprint": secrets.token_hex(8),
                }
            ],
        }
        answer = httpx.post(
            f"{router.url}/alerts", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200, answer.text
        eventually(
            lambda: any(name in str(mail) for mail in sandbox.received("email")),
            30,
            "the alert's e-mail at the sandbox",
        )

        def delivered_in_metrics() -> bool:
            return any(
                line.startswith("router_deliveries_total{")
                and 'target="email"' in line
                and 'result="delivered"' in line
                and float(line.split()[-1]) == 1.0
                for line in httpx.get(f"{router.url}/metrics").text.splitlines()
            )

        eventually(delivered_in_metrics, 10, "the worker's delivery counted on /metrics")

        os.kill(parent.pid, signal.SIGKILL)  # the router alone: the group is left alive
        eventually(
            lambda: not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE,
            10,
            "the worker process gone after its router",
        )
    finally:
        router.kill()
