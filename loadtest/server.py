"""The server's side of a run, from the stack's Prometheus over the run's window: the panels, the
alerts that fired, lock success, and the SLO burn computed with the SLO alerts' own SLI
definitions (alert_rules/slo/slos.yml, read through its generator)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import httpx
import yaml

from alert_rules.slo.spec import SPEC, load_spec, minutes

SCRAPE_WAIT_SECONDS = 60.0  # how long to wait for the first scrape after the run
RATE_WINDOW = "15s"  # three scrapes at the stack's 5 s interval
ALWAYS_FIRING = ("Watchdog",)  # the dead man's switch fires all the time, by design


class PrometheusUnavailable(RuntimeError):
    """Prometheus did not answer; the run's client figures still stand."""


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    expr: str
    unit: str
    by: str = ""  # a label whose values become separate lines


PANELS = (
    Panel(
        "booking_rps",
        "Booking requests/s by status (server)",
        f"sum by (status) (rate(http_requests_total{{job='booking'}}[{RATE_WINDOW}]))",
        "req/s",
        "status",
    ),
    Panel(
        "db_pool",
        "DB pool connections in use / size",
        "sum(db_pool_connections_in_use{job='booking'})",
        "connections",
    ),
    Panel("db_pool_size", "DB pool size", "sum(db_pool_size{job='booking'})", "connections"),
    Panel(
        "lock_wait_p95",
        "Distributed lock wait p95",
        "histogram_quantile(0.95, sum by (le) (rate("
        f"distributed_lock_wait_duration_seconds_bucket{{job='booking'}}[{RATE_WINDOW}])))",
        "s",
    ),
    Panel(
        "redis_command_seconds",
        "Redis mean command time (server side)",
        f"sum(rate(redis_commands_duration_seconds_total[{RATE_WINDOW}])) / "
        f"sum(rate(redis_commands_total[{RATE_WINDOW}]))",
        "s",
    ),
    Panel(
        "mariadb_threads_running",
        "MariaDB threads running (SQL statements in progress)",
        "mysql_global_status_threads_running",
        "threads",
    ),
    Panel(
        "mariadb_row_lock_wait",
        "MariaDB row lock wait (ms per second)",
        f"rate(mysql_global_status_innodb_row_lock_time[{RATE_WINDOW}])",
        "ms/s",
    ),
    Panel(
        "kafka_lag",
        "Kafka consumer lag",
        "sum by (group) (kafka_consumer_lag{job='booking'})",
        "messages",
        "group",
    ),
    Panel(
        "outbox_backlog", "Outbox backlog", "sum(outbox_pending_events{job='booking'})", "events"
    ),
    Panel(
        "breaker_state",
        "Redis circuit breaker (0 closed, 1 half-open, 2 open)",
        "max(circuit_breaker_state{job='booking'})",
        "state",
    ),
)


class Prometheus:
    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        try:
            answer = self.client.get(path, params=params)
            answer.raise_for_status()
        except httpx.HTTPError as error:
            raise PrometheusUnavailable(f"Prometheus at {self.client.base_url}: {error}") from None
        return answer.json()["data"]["result"]

    def instant(self, expr: str, at: float) -> float | None:
        result = self._get("/api/v1/query", {"query": expr, "time": at})
        if not result:
            return None
        value = float(result[0]["value"][1])
        return None if math.isnan(value) or math.isinf(value) else value

    def range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        return list(
            self._get(
                "/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step}
            )
        )

    def wait_for_scrape_after(self, moment: float) -> None:
        """Until the booking service has been scraped after `moment` (polls, never assumes)."""
        deadline = time.monotonic() + SCRAPE_WAIT_SECONDS
        while time.monotonic() < deadline:
            seen = self.instant("timestamp(up{job='booking'})", time.time())
            if seen is not None and seen > moment:
                return
            time.sleep(0.5)


def window(seconds: float) -> str:
    """A range covering the run and at least three scrapes."""
    return f"{max(30, math.ceil(seconds) + 10)}s"


def series(result: list[dict[str, Any]], by: str) -> dict[str, list[list[float | None]]]:
    lines: dict[str, list[list[float | None]]] = {}
    for item in result:
        name = item["metric"].get(by, "value") if by else "value"
        points = []
        for t, v in item["values"]:
            value = float(v)
            points.append([float(t), None if math.isnan(value) or math.isinf(value) else value])
        lines[name] = points
    return lines


def alerts_fired(prometheus: Prometheus, start: float, end: float) -> list[dict[str, Any]]:
    """Every alert that was firing during the run, when it started and stopped firing."""
    result = prometheus.range("ALERTS{alertstate='firing'}", start, end, step=5)
    fired = []
    for item in result:
        if item["metric"].get("alertname") in ALWAYS_FIRING:
            continue
        times = [float(t) for t, _ in item["values"]]
        fired.append(
            {
                "alertname": item["metric"].get("alertname", "?"),
                "priority": item["metric"].get("priority", ""),
                "first_seen": min(times),
                "last_seen": max(times),
                "before_the_run": min(times) <= start,
            }
        )
    return sorted(fired, key=lambda a: a["first_seen"])


def lock_success(prometheus: Prometheus, end: float, duration: float) -> dict[str, Any]:
    """Acquired / attempted distributed locks over the run (plan: Redis SETEX success rate)."""
    w = window(duration)
    count = "distributed_lock_wait_duration_seconds_count{job='booking'"
    attempts = prometheus.instant(f"sum(increase({count}}}[{w}]))", end)
    acquired = prometheus.instant(f"sum(increase({count}, outcome='acquired'}}[{w}]))", end)
    if not attempts:
        return {"attempts": 0, "acquired": 0, "success_percent": None}
    return {
        "attempts": round(attempts),
        "acquired": round(acquired or 0),
        "success_percent": 100.0 * (acquired or 0) / attempts,
    }


def slo_burn(prometheus: Prometheus, end: float, duration: float) -> list[dict[str, Any]]:
    """Each SLO's error ratio over the run, its burn rate (1 = spending the budget exactly as
    fast as the period allows) and the share of the period's budget the run spent."""
    _, slos = load_spec()
    period_seconds = minutes(str(yaml.safe_load(SPEC.read_text())["period"])) * 60
    w = window(duration)
    burns = []
    for slo in slos:
        ratio = prometheus.instant(f"({slo.errors_rate(w)}) / ({slo.requests_rate(w)})", end)
        budget = float(slo.budget)
        burn = ratio / budget if ratio is not None else None
        burns.append(
            {
                "name": slo.name,
                "objective_percent": float(slo.objective_percent),
                "error_ratio": ratio,
                "burn_rate": burn,
                "budget_spent_percent": (
                    100.0 * burn * duration / period_seconds if burn is not None else None
                ),
                "page_burn_rate": 14.4,  # the fast page tier of the SLO alerts (1h and 5m)
            }
        )
    return burns


def server_view(url: str, start: float, end: float) -> dict[str, Any]:
    """The panels, alerts, lock success and SLO burn of the window [start, end]."""
    prometheus = Prometheus(url)
    prometheus.wait_for_scrape_after(end)
    now = time.time()
    duration = end - start
    step = max(1.0, math.ceil(duration / 300))
    panels = {}
    for panel in PANELS:
        panels[panel.key] = {
            "title": panel.title,
            "unit": panel.unit,
            "series": series(prometheus.range(panel.expr, start, now, step), panel.by),
        }
    return {
        "prometheus": url,
        "panels": panels,
        "alerts": alerts_fired(prometheus, start, now),
        "locks": lock_success(prometheus, now, now - start),
        "slo": slo_burn(prometheus, now, now - start),
    }
