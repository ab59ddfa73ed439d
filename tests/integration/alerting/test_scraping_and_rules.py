"""Prometheus scrapes every exporter and service of the real stack and loads every rule."""

from __future__ import annotations

import httpx

from alert_rules.catalog import alert_names, load_rules
from tests.support.polling import eventually
from tests.support.prometheus_api import PrometheusApi

JOBS = (
    "prometheus",
    "alertmanager",
    "redis",
    "mysql",
    "node",
    "elasticsearch",
    "kafka",
    "booking",
    "router",
    "pipeline",
)
# What each exporter reports about its part: 1 means the exporter reached it for real.
PART_UP = {
    "redis": 'redis_up{job="redis"}',
    "mysql": 'mysql_up{job="mysql"}',
    "elasticsearch": 'elasticsearch_cluster_health_up{job="elasticsearch"}',
    "kafka": 'kafka_controller_kafkacontroller_activecontrollercount{job="kafka"}',
    "node": 'node_cpu_seconds_total{job="node", mode="idle"}',
}


def test_every_job_is_scraped_and_up(prometheus: PrometheusApi) -> None:
    def all_up() -> bool:
        found = {s["metric"]["job"]: s["value"][1] for s in prometheus.series("up")}
        return all(found.get(job) == "1" for job in JOBS)

    eventually(all_up, 60, f"every job in {JOBS} scraped with up == 1")


def test_each_exporter_reaches_its_part(prometheus: PrometheusApi) -> None:
    for job, expr in PART_UP.items():
        eventually(
            lambda expr=expr: any(float(s["value"][1]) >= 1 for s in prometheus.series(expr)),
            60,
            f"{job}: {expr} >= 1",
        )


def test_every_rule_is_loaded_and_evaluates_without_error(prometheus: PrometheusApi) -> None:
    def loaded() -> list[dict[str, object]] | None:
        groups = prometheus.get("/api/v1/rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        # An unevaluated rule reports Go's zero time.
        evaluated = all(not r.get("lastEvaluation", "0001").startswith("0001") for r in rules)
        names = {r["name"] for r in rules if r["type"] == "alerting"}
        return rules if evaluated and set(alert_names()) <= names else None

    rules = eventually(loaded, 60, "every alert of alert_rules/ loaded in Prometheus")
    broken = {r["name"]: r.get("lastError") for r in rules if r["health"] == "err"}
    assert not broken
    assert sum(1 for r in rules if r["type"] == "alerting") == len(load_rules())


def test_watchdog_fires_and_reaches_alertmanager(alertmanager_url: str) -> None:
    def watchdog_active() -> bool:
        alerts = httpx.get(f"{alertmanager_url}/api/v2/alerts", timeout=10).json()
        return any(
            a["labels"]["alertname"] == "Watchdog" and a["status"]["state"] == "active"
            for a in alerts
        )

    eventually(watchdog_active, 60, "the Watchdog active in Alertmanager")
