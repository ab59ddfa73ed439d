"""The demo's failure drill: Redis stopped while a wave of users books; RedisDown must fire and
page PagerDuty (the sandbox) with its links; Redis is started again whatever happened.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress

from sandbox.client import SandboxClient, only_mentioning
from soundcheck.demo_opening import QUEUE_WAIT_SECONDS, DemoError, Opening, Wave, run_wave
from soundcheck.drill.polling import wait_for
from soundcheck.stack.stack import Stack

PAGE_TEXT = "FIRING RedisDown"


@dataclass
class DrillResult:
    wave: Wave
    firing_after: float | None
    paged_after: float | None
    page: dict[str, Any] | None


def redis_drill(
    stack: Stack,
    opening: Opening,
    users: int,
    progress: Progress,
    console: Console,
) -> DrillResult:
    settings = stack.settings
    prometheus = httpx.Client(
        base_url=f"http://{settings.host}:{settings.prometheus_port}", timeout=10
    )
    sandbox = SandboxClient(f"http://{settings.host}:{settings.sandbox_port}")

    def alerts(query: str) -> bool:
        answer = prometheus.get("/api/v1/query", params={"query": query})
        return bool(answer.json()["data"]["result"])

    def firing() -> bool:
        return alerts('ALERTS{alertname="RedisDown", alertstate="firing"}')

    def clear() -> bool:
        """No RedisDown left from an earlier fault: one still firing (or active in
        Alertmanager) would simply go on, and until its resolve has been sent Alertmanager folds
        a new fault into the incident still open (it dedups by the set of firing alerts), so
        nobody would be paged again."""
        if alerts('ALERTS{alertname="RedisDown"}'):
            return False
        active = httpx.get(
            f"http://{settings.host}:{settings.alertmanager_port}/api/v2/alerts",
            params={"filter": 'alertname="RedisDown"'},
            timeout=10,
        )
        if active.json():
            return False
        received = sandbox.received("pagerduty")  # newest first
        pages = only_pages(received)
        if not pages:
            return True
        trigger = pages[0]
        key = trigger["body"].get("dedup_key")
        return any(
            p["kind"] == "resolve" and p["body"].get("dedup_key") == key and p["at"] > trigger["at"]
            for p in received
        )

    def only_pages(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [p for p in only_mentioning(received, PAGE_TEXT) if p["kind"] == "trigger"]

    def new_page() -> dict[str, Any] | None:
        """The first trigger received since the fault (by time: the sandbox's sequence numbers
        start again when it restarts)."""
        fresh = [p for p in only_pages(sandbox.received("pagerduty")) if p["at"] >= fault_at]
        return fresh[-1] if fresh else None

    names = [f"degraded{n}" for n in range(users)]
    with ThreadPoolExecutor(16) as pool:
        tokens = list(pool.map(lambda name: opening.token(name, QUEUE_WAIT_SECONDS), names))
    if not clear():
        console.print(
            "\n  waiting for the last RedisDown (an earlier fault) to be resolved at PagerDuty"
        )
        if not wait_for(clear, 300, every=2):
            raise DemoError("RedisDown from an earlier fault did not resolve within 5 minutes")
    console.print(
        f"\n[bold]Failure drill[/bold]: {users} more users are through the queue; stopping Redis "
        "(`soundcheck stop redis`) before they book."
    )
    began, fault_at = time.monotonic(), time.time()
    stack.stop(["redis"])
    try:
        wave = run_wave(opening, users, "degraded wave", progress, tokens)
        firing_after = paged_after = None
        if wait_for(firing, 90):
            firing_after = time.monotonic() - began
            console.print(f"  RedisDown firing in Prometheus {firing_after:.1f} s after the fault")
        page = wait_for(new_page, 120)
        if page:
            paged_after = time.monotonic() - began
    finally:
        console.print("  starting Redis again")
        stack.up(["redis"])
        prometheus.close()
    return DrillResult(wave, firing_after, paged_after, page)


def page_links(page: dict[str, Any]) -> list[str]:
    body = page.get("body") or {}
    return [f"{link.get('text', '')}: {link.get('href', '')}" for link in body.get("links", [])]
