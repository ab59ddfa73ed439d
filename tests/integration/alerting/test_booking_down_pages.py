"""BookingServiceDown: "the booking service is down" is a failed health probe.

Stopping the service fires BookingServiceDown through the blackbox exporter's probe and pages
PagerDuty (the sandbox); a service busy with as many customers as it has request threads keeps
answering the probe, so the rule stays quiet.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sandbox.client import SandboxClient
from soundcheck.stack.stack import Stack
from tests.support.booking_load import drive_load, release_customers
from tests.support.polling import eventually
from tests.support.prometheus_api import PrometheusApi

ALERT = 'ALERTS{alertname="BookingServiceDown"}'
FIRING = 'ALERTS{alertname="BookingServiceDown", alertstate="firing"}'
PROBED = 'probe_success{job="booking_health"}'


def probes(prometheus: PrometheusApi) -> dict[float, float]:
    """The booking instances' probes of the last 30 s: {when it was taken: probe_success}."""
    return {
        float(taken): float(value)
        for series in prometheus.series(f"{PROBED}[30s]")
        for taken, value in series["values"]
    }


def test_busy_booking_service_answers_its_probe_and_does_not_fire(
    stack: Stack, prometheus: PrometheusApi
) -> None:
    eventually(lambda: 1.0 in probes(prometheus).values(), 90, "the booking service probed, up")
    # A Prometheus started before the booking service (the e2e tests start it first) judged it
    # down while it started: that episode must be over before the load, which alone is judged.
    eventually(lambda: not prometheus.series(ALERT), 120, "no BookingServiceDown before the load")
    threads = 3 * 16  # the stack's gunicorn: 3 workers x 16 threads, every one of them busy
    began = time.time()
    done = threading.Event()
    seen: dict[float, float] = {}
    alerts: list[Any] = []

    def watch() -> None:
        while not done.is_set():
            seen.update(probes(prometheus))
            alerts.extend(prometheus.series(ALERT))
            time.sleep(1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    codes: list[int] = []
    failures: list[str] = []
    try:
        # Customers until two probes were taken while they were served (a round is seconds).
        for _ in range(6):
            codes += drive_load(stack.part("booking").address(), threads * 2, threads, failures)
            if len([taken for taken in seen if taken > began]) >= 2:
                break
    finally:
        done.set()
        watcher.join()
        release_customers(stack.settings)
    during = {taken: value for taken, value in seen.items() if taken > began}
    assert len(during) >= 2, "the load outlasted two probes"
    assert codes
    assert all(code < 500 for code in codes), (sorted(set(codes)), failures[:5])
    assert set(during.values()) == {1.0}, f"a probe failed under load: {during}"
    assert not alerts, f"BookingServiceDown pending or firing under load: {alerts}"


def test_stopping_booking_fires_booking_service_down_and_pages(
    stack: Stack, prometheus: PrometheusApi, alertmanager_url: str
) -> None:
    eventually(lambda: not prometheus.series(FIRING), 60, "BookingServiceDown not firing before")
    sandbox = SandboxClient(stack.part("sandbox").address())

    def pages() -> list[dict[str, Any]]:
        return sandbox.received("pagerduty", mentioning="FIRING BookingServiceDown")

    paged_before = {p["seq"] for p in pages()}
    began = time.monotonic()
    stack.stop(["booking"])
    try:
        eventually(lambda: prometheus.series(FIRING), 60, "BookingServiceDown firing")
        print(f"BookingServiceDown firing {time.monotonic() - began:.1f} s after the stop")
        page = eventually(
            lambda: [p for p in pages() if p["seq"] not in paged_before],
            60,
            "the router's PagerDuty trigger for BookingServiceDown at the sandbox",
        )
        assert page[0]["body"]["payload"]["severity"] == "critical"
        # The metrics process stopped with the service, but its warning waits a minute.
        unscraped = 'ALERTS{alertname="BookingMetricsUnscraped", alertstate="firing"}'
        assert not prometheus.series(unscraped), "the page is BookingServiceDown's alone"
    finally:
        stack.up(["booking"])
    eventually(lambda: not prometheus.series(FIRING), 60, "BookingServiceDown resolved")
