"""The router's Prometheus metrics, defined once, in its own registry (served at /metrics)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from instrumentation.multiprocess import multiprocess_dir

REGISTRY = CollectorRegistry()

WEBHOOKS = Counter(
    "router_webhooks_total",
    "Webhook requests answered, by HTTP status code.",
    ["code"],
    registry=REGISTRY,
)
ALERTS_RECEIVED = Counter(
    "router_alerts_received_total",
    "Alerts in accepted webhooks, by status.",
    ["status"],
    registry=REGISTRY,
)
ALERTS_DEDUPLICATED = Counter(
    "router_alerts_deduplicated_total",
    "Alerts already stored (Alertmanager retry, repeat interval, HA twin): nothing sent again.",
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "router_deliveries_total",
    "Delivery attempts by target and result (delivered, retry, given_up, dead).",
    ["target", "result"],
    registry=REGISTRY,
)
DELIVERY_LATENCY = Histogram(
    "router_delivery_latency_seconds",
    "From webhook accepted to delivered at the target.",
    ["target"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
    registry=REGISTRY,
)
INGEST_SECONDS = Histogram(
    "router_ingest_duration_seconds",
    "Time to validate and persist one webhook.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
    registry=REGISTRY,
)
ALERT_URLS_REJECTED = Counter(
    "router_alert_urls_rejected_total",
    "Links taken from an alert (runbook_url, dashboard_url, generatorURL, externalURL) left out "
    "of notifications: not http(s), whitespace or control characters, or too long.",
    ["field"],
    registry=REGISTRY,
)
REFIRES_HELD = Counter(
    "router_refires_held_total",
    "Alerts that fired again while acknowledged from an incident page: stored, not notified.",
    registry=REGISTRY,
)
INCIDENT_ACTIONS = Counter(
    "router_incident_actions_total",
    "Actions taken on incident pages (acknowledge, silence, expire), counted once each.",
    ["action"],
    registry=REGISTRY,
)
WATCHDOG_LAST_SEEN = Gauge(
    "router_watchdog_last_seen_timestamp_seconds",
    "When Alertmanager's always-firing Watchdog last arrived (0: not since the router started). "
    "A dead man's switch outside the stack alerts when this stops moving.",
    registry=REGISTRY,
    multiprocess_mode="max",
)


class QueueDepthCollector(Collector):
    """Deliveries by state, read from the store at scrape time (so it is right after restarts)."""

    def __init__(self) -> None:
        self.depth: Callable[[], dict[str, int]] = dict

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "router_queue_depth", "Deliveries in the store by state.", labels=["state"]
        )
        try:
            counts = self.depth()
        except Exception:  # a scrape must not fail because the store is briefly busy
            counts = {}
        for state in ("pending", "delivered", "given_up", "dead"):
            family.add_metric([state], counts.get(state, 0))
        yield family


QUEUE_DEPTH = QueueDepthCollector()
REGISTRY.register(QUEUE_DEPTH)
QUEUE_ONLY = CollectorRegistry()
QUEUE_ONLY.register(QUEUE_DEPTH)


def own_registry() -> CollectorRegistry:
    """What `/metrics` adds to the shared exposition. When the delivery worker runs in a process
    of its own, every process's router_* values are in PROMETHEUS_MULTIPROC_DIR and come from
    there; only the queue depth, read from the store at scrape time, is left to add."""
    return QUEUE_ONLY if multiprocess_dir() else REGISTRY


def watch_queue(depth: Callable[[], dict[str, int]]) -> None:
    """Report this store's queue (the last app built in a process wins: tests build several)."""
    QUEUE_DEPTH.depth = depth
