"""A real fault: Redis stopped through the Stack API; RedisDown fires in Prometheus, reaches
Alertmanager on the P0 route, the router pages PagerDuty (the sandbox), and it all resolves once
Redis is back (brought back in any case)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from sandbox.client import SandboxClient
from soundcheck.stack.stack import Stack
from tests.support.polling import eventually
from tests.support.prometheus_api import PrometheusApi

FIRING = 'ALERTS{alertname="RedisDown", alertstate="firing"}'


def test_stopping_redis_fires_redis_down_and_starting_it_resolves(
    stack: Stack, prometheus: PrometheusApi, alertmanager_url: str
) -> None:
    eventually(lambda: not prometheus.series(FIRING), 60, "RedisDown not firing before the fault")
    sandbox = SandboxClient(stack.part("sandbox").address())

    def pages() -> list[dict[str, Any]]:
        return sandbox.received("pagerduty", mentioning="FIRING RedisDown")

    paged_before = {p["seq"] for p in pages()}
    began = time.monotonic()
    stack.stop(["redis"])
    try:
        eventually(lambda: prometheus.series(FIRING), 60, "RedisDown firing after Redis stopped")
        detected = time.monotonic() - began
        # Recorded for docs/alerting.md; bench/alert_detection.py measures it properly.
        print(f"RedisDown firing {detected:.1f} s after Redis stopped")

        def in_alertmanager() -> bool:
            alerts = httpx.get(f"{alertmanager_url}/api/v2/alerts", timeout=10).json()
            return any(
                a["labels"]["alertname"] == "RedisDown"
                and a["labels"]["priority"] == "P0"
                and "router-p0" in [r["name"] for r in a["receivers"]]
                for a in alerts
            )

        eventually(in_alertmanager, 30, "RedisDown in Alertmanager on the router-p0 route")
        # Within one P0 group interval (30 s) even if an earlier test's RedisDown left a group.
        page = eventually(
            lambda: [p for p in pages() if p["seq"] not in paged_before],
            60,
            "the router's PagerDuty trigger for RedisDown at the sandbox",
        )
        assert page[0]["body"]["payload"]["severity"] == "critical"
    finally:
        stack.up(["redis"])
    eventually(lambda: not prometheus.series(FIRING), 60, "RedisDown resolved with Redis back")
