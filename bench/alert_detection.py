"""Time from a real fault to its page: `soundcheck stop redis` → RedisDown firing in Prometheus,
active in Alertmanager, and the router's PagerDuty trigger arriving at the sandbox. Not a test:
figures go to docs/alerting.md.

    SOUNDCHECK_HOME=... SOUNDCHECK_PORT_OFFSET=... .venv/bin/python bench/alert_detection.py [runs]

Needs a running stack (`soundcheck up`). Redis is started again after every run.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

from sandbox.client import SandboxClient
from soundcheck.settings import load_settings
from tests.support.polling import eventually

SOUNDCHECK = str(Path(sys.executable).parent / "soundcheck")  # the CLI a user runs
FIRING = 'ALERTS{alertname="RedisDown", alertstate="firing"}'


def seconds_until(check: Callable[[], bool], within: float, what: str, began: float) -> float:
    """Seconds from `began` until `check` holds (polled every 0.1 s, so the figure is that fine)."""
    eventually(check, within, what, every=0.1)
    return time.monotonic() - began


def main(runs: int) -> None:
    s = load_settings()
    prometheus = f"http://{s.host}:{s.prometheus_port}"
    alertmanager = f"http://{s.host}:{s.alertmanager_port}"

    def firing() -> bool:
        answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": FIRING}, timeout=5)
        return bool(answer.json()["data"]["result"])

    def in_alertmanager() -> bool:
        alerts = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
        return any(a["labels"]["alertname"] == "RedisDown" for a in alerts)

    sandbox = SandboxClient(f"http://{s.host}:{s.sandbox_port}")

    def last_page() -> int:
        pages = [p["seq"] for p in sandbox.received("pagerduty", mentioning="FIRING RedisDown")]
        return max(pages, default=0)

    def paged_since(seen: int) -> bool:
        return last_page() > seen

    to_prometheus, to_alertmanager, to_pagerduty = [], [], []
    for run in range(runs):
        eventually(lambda: not firing() and not in_alertmanager(), 120, "RedisDown resolved")
        # Alertmanager keeps a resolved alert's group until its next flush; a fault inside that
        # window is sent at the group interval (30 s for P0), not after group_wait. Wait it out,
        # and start the fault at an arbitrary point of the 5 s scrape cycle.
        time.sleep(35 + random.uniform(0, 5))  # noqa: S311
        paged_before = last_page()
        began = time.monotonic()
        subprocess.run([SOUNDCHECK, "stop", "redis"], check=True)
        to_prometheus.append(seconds_until(firing, 120, "RedisDown firing", began))
        to_alertmanager.append(
            seconds_until(in_alertmanager, 60, "RedisDown in Alertmanager", began)
        )
        paged = partial(paged_since, paged_before)
        to_pagerduty.append(seconds_until(paged, 90, "RedisDown paged", began))
        subprocess.run(
            [SOUNDCHECK, "start", "redis"],
            check=True,
            capture_output=True,
        )
        print(
            f"run {run + 1}: firing in Prometheus {to_prometheus[-1]:.1f} s, "
            f"in Alertmanager {to_alertmanager[-1]:.1f} s, paged {to_pagerduty[-1]:.1f} s"
        )
    print(
        f"RedisDown, {runs} runs: Prometheus median {statistics.median(to_prometheus):.1f} s "
        f"(max {max(to_prometheus):.1f} s); Alertmanager median "
        f"{statistics.median(to_alertmanager):.1f} s (max {max(to_alertmanager):.1f} s); "
        f"PagerDuty (sandbox) median {statistics.median(to_pagerduty):.1f} s "
        f"(max {max(to_pagerduty):.1f} s)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
