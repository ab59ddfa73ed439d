"""B8: once Redis is back, every process of the service closes its breaker and
leaves degraded mode by itself, with no traffic at all, and DegradedModeActive and
CircuitBreakerOpen resolve in the real Prometheus within two breaker reset intervals.

The instance gets a short reset interval (20 s) and joins the stack Prometheus's `booking` job
through a file_sd target file, so the stack's own alert rules watch it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from prometheus_client.mmap_dict import MmapedDict

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.prometheus import Prometheus
from soundcheck.stack.stack import Stack
from tests.support.booking_instances import (
    BookingInstance,
    concurrently,
    start_instance,
    stop_instance,
)
from tests.support.config_reload import prepare_and_reload
from tests.support.polling import eventually

RESET_SECONDS = 20.0
ALERTS = ("DegradedModeActive", "CircuitBreakerOpen")
BREAKER = "circuit_breaker_state"
DEGRADED = "degraded_mode_active"


@pytest.fixture(scope="module")
def recovering(stack: Stack, settings: StackSettings) -> Iterator[BookingInstance]:
    instance = start_instance(
        settings,
        "recovery",
        redis_db=7,
        BOOKING_WORKERS="3",
        BOOKING_MAX_ACTIVE_TOKENS="1000",
        BOOKING_REDIS_TIMEOUT_SECONDS="0.5",
        BOOKING_BREAKER_VOLUME_THRESHOLD="3",
        BOOKING_BREAKER_RESET_SECONDS=str(RESET_SECONDS),
    )
    yield instance
    stop_instance(instance)


class PrometheusView:
    """The stack's Prometheus, with `instance` registered as one more target of job booking."""

    def __init__(self, part: Prometheus, instance: BookingInstance) -> None:
        self.url = part.address()
        self.target = instance.url.removeprefix("http://")
        self.target_file = part.booking_targets_dir / f"test-{instance.name}.json"

    def series(self, expr: str) -> list[dict[str, object]]:
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10).json()
        assert answer["status"] == "success", f"{expr}: {answer}"
        return list(answer["data"]["result"])

    def alerts(self) -> list[str]:
        """Names of the two alerts Prometheus holds for job booking (pending or firing)."""
        names = "|".join(ALERTS)
        found = self.series(f'ALERTS{{job="booking", alertname=~"{names}"}}')
        return sorted(f"{s['metric']['alertname']}:{s['metric']['alertstate']}" for s in found)  # type: ignore[index]

    def firing(self) -> set[str]:
        return {a.split(":")[0] for a in self.alerts() if a.endswith(":firing")}


@pytest.fixture
def prometheus(stack: Stack, recovering: BookingInstance) -> Iterator[PrometheusView]:
    part = stack.part("prometheus")
    assert isinstance(part, Prometheus)
    prepare_and_reload(part)  # a stack started before file_sd was in the template learns it now
    view = PrometheusView(part, recovering)
    view.target_file.write_text(json.dumps([{"targets": [view.target]}]))
    try:
        eventually(
            lambda: view.series(f'up{{job="booking", instance="{view.target}"}} == 1'),
            90,
            "Prometheus scrapes the test instance as part of job booking",
        )
        yield view
    finally:
        view.target_file.unlink(missing_ok=True)


def redis_gauges(instance: BookingInstance) -> dict[int, dict[str, float]]:
    """Per live process of the instance: its own breaker and degraded-mode gauges for Redis,
    read from its multiprocess file (what /metrics shows is only the maximum over them)."""
    master = instance.process.process()
    assert master is not None, "the instance's gunicorn master is gone"
    metrics_dir = Path(instance.settings.home) / "booking-tests" / instance.name / "metrics"
    gauges: dict[int, dict[str, float]] = {}
    for child in master.children():
        path = metrics_dir / f"gauge_livemax_{child.pid}.db"
        if not path.exists():
            continue
        values: dict[str, float] = {}
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(path)):
            name, _sample, labels, _help = json.loads(key)
            if (name, labels) in (
                (BREAKER, {"breaker": "redis"}),
                (DEGRADED, {"component": "redis"}),
            ):
                values[name] = value
        gauges[child.pid] = values
    return gauges


def web_workers(instance: BookingInstance) -> set[int]:
    """The gunicorn worker processes: forks of the master, with its command line (not the
    background `booking_app worker` or the `booking_app metrics` server it also starts)."""
    master = instance.process.process()
    assert master is not None
    workers = set()
    for child in master.children():
        try:
            if child.cmdline() == master.cmdline():
                workers.add(child.pid)
        except psutil.NoSuchProcess:
            continue
    return workers


def test_with_redis_back_and_no_traffic_every_breaker_closes_and_alerts_resolve(
    stack: Stack, recovering: BookingInstance, prometheus: PrometheusView
) -> None:
    eventually(lambda: not prometheus.alerts(), 90, f"none of {ALERTS} held before the fault")
    users = [f"recovery-{i}" for i in range(150)]
    with recovering.client() as client:
        tokens = [recovering.active_token(client, user) for user in users]
    workers = web_workers(recovering)
    assert len(workers) == 3, workers
    stack.stop(["redis"])
    try:
        seats = iter(range(len(users)))

        def every_worker_degraded() -> bool:
            """Reservations (seat locks) until each worker has its breaker open and falls back."""
            gauges = redis_gauges(recovering)
            if all(gauges.get(pid) == {BREAKER: 2.0, DEGRADED: 1.0} for pid in workers):
                return True
            batch = [next(seats) for _ in range(9)]

            def reserve(i: int) -> None:
                # A client (connection) each, so the requests spread over the workers.
                with recovering.client() as client:
                    recovering.reserve(client, tokens[batch[i]], users[batch[i]], batch[i] + 1)

            concurrently(len(batch), reserve)
            return False

        eventually(every_worker_degraded, 120, "every web worker's breaker open, degraded mode on")
        eventually(
            lambda: prometheus.firing() == set(ALERTS), 120, f"{ALERTS} firing in Prometheus"
        )
    finally:
        stack.up(["redis"])
    redis_back = time.monotonic()
    # From here on nobody sends the instance a request: recovery must come from itself.
    seen: dict[str, Any] = {}

    def recovered_and_resolved() -> bool:
        seen["gauges"] = gauges = redis_gauges(recovering)
        seen["alerts"] = alerts = prometheus.alerts()
        recovered = all(values == {BREAKER: 0.0, DEGRADED: 0.0} for values in gauges.values())
        return recovered and not alerts and workers <= gauges.keys()

    eventually(
        recovered_and_resolved,
        2 * RESET_SECONDS,
        lambda: (
            f"recovery after Redis came back: per-process gauges {seen['gauges']}, "
            f"alerts still held {seen['alerts']}"
        ),
        every=0.5,
    )
    print(f"recovered and resolved {time.monotonic() - redis_back:.1f} s after Redis came back")
