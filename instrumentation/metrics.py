"""The Prometheus metrics every service shares (SPEC O2), and the `/metrics` exposition.

Shared means recorded by `instrumentation/` itself in any service that uses it: HTTP requests,
SQL and Redis client calls, log shipping. A service's own (business) metrics live in that service
(`booking_app/metrics.py`, `router/metrics.py`, `pipeline/metrics.py`), so no service exports
another's series. Under gunicorn the values live in `PROMETHEUS_MULTIPROC_DIR` (emptied by
`multiprocess.prepare_multiprocess_dir` when the master starts; a dead worker's live gauges are
removed, see `gunicorn_hooks.py`). Each gauge says how workers' values combine
(`multiprocess_mode`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector

from instrumentation.multiprocess import ensure_multiprocess_dir, multiprocess_dir

ensure_multiprocess_dir()  # a metric writes its file when it is defined, just below

# Latency buckets: one at every threshold the alerts and the plan's SLA use
# (p95 < 0.5 s, p99 < 1 s, HighResponseTime p95 > 1 s, "slow request" > 1 s).
HTTP_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 2.5, 5.0, 10.0)

# --- HTTP (every service) -------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "handler", "status"],
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from request received to response returned, by method and route template.",
    ["method", "handler"],
    buckets=HTTP_LATENCY_BUCKETS,
)

# --- SQL and Redis clients (counted by `tracing.py`'s hooks in any service that uses them) -----
DB_QUERIES = Counter(
    "db_queries_total",
    "SQL statements executed, by operation (SELECT, INSERT, UPDATE, DELETE, other).",
    ["operation"],
)

# --- Redis ----------------------------------------------------------------------------------
REDIS_COMMANDS = Counter(
    "redis_commands_total",
    "Redis commands sent by the service, by command name (pipelines count each command).",
    ["command"],
)

# --- log shipping (instrumentation/logs.py) -------------------------------------------------
LOG_RECORDS_DROPPED = Counter(
    "log_records_dropped_total",
    "Log records not shipped to the forward receiver, by reason "
    "(buffer_full, too_large, unserializable, shutdown).",
    ["reason"],
)
LOG_RECORDS_SHIPPED = Counter(
    "log_records_shipped_total",
    "Log records the forward receiver acknowledged.",
)
LOG_RECORDS_BUFFERED = Gauge(
    "log_records_buffered",
    "Log records waiting to be shipped, summed over processes.",
    multiprocess_mode="livesum",
)
LOG_SHIPPING_ERRORS = Counter(
    "log_shipping_errors_total",
    "Failed attempts to deliver a chunk of log records (connect, send or ack timeout).",
)

SHARED_METRICS: tuple[MetricWrapperBase, ...] = (
    HTTP_REQUESTS,
    HTTP_DURATION,
    DB_QUERIES,
    REDIS_COMMANDS,
    LOG_RECORDS_DROPPED,
    LOG_RECORDS_SHIPPED,
    LOG_RECORDS_BUFFERED,
    LOG_SHIPPING_ERRORS,
)


class _EveryMetricCollector(Collector):
    """Multiprocess values, plus an empty family for metrics no process has touched yet.

    The multiprocess collector only knows metrics that have a file; an on-call engineer (and
    the dashboards' query checks) must still see every O2 metric name from the first scrape:
    the shared ones and the service's own (`service_metrics`).
    """

    def __init__(self, directory: Path, metrics: Iterable[MetricWrapperBase]) -> None:
        self._directory = directory
        self._metrics = tuple(metrics)

    def collect(self) -> Iterable[Metric]:
        seen: set[str] = set()
        collector = multiprocess.MultiProcessCollector(None, str(self._directory))  # type: ignore[no-untyped-call]
        for family in collector.collect():  # type: ignore[no-untyped-call]
            seen.add(family.name)
            yield family
        for metric in self._metrics:
            for family in metric.describe():
                if family.name not in seen:
                    yield Metric(family.name, family.documentation, family.type)


def exposition_registry(service_metrics: Iterable[MetricWrapperBase] = ()) -> CollectorRegistry:
    """The registry `/metrics` renders: all workers' values under gunicorn, else this process."""
    directory = multiprocess_dir()
    if directory is None:
        return REGISTRY
    registry = CollectorRegistry()
    registry.register(_EveryMetricCollector(directory, (*SHARED_METRICS, *service_metrics)))
    return registry


def render_metrics(
    *own_registries: CollectorRegistry,
    accept: str = "",
    service_metrics: Iterable[MetricWrapperBase] = (),
) -> tuple[bytes, str]:
    """The exposition and its content type: OpenMetrics (with exemplars carrying trace ids)
    when the scraper accepts it, else the Prometheus text format.

    A service with metrics of its own in another registry (the router) passes it here, so one
    `/metrics` shows both; one whose metrics are in the default registry (booking) names them in
    `service_metrics`, so under gunicorn they show before any worker has touched them.
    """
    registries = (exposition_registry(service_metrics), *own_registries)
    if "application/openmetrics-text" in accept:
        # One document, one `# EOF`: merge the registries' families before rendering.
        merged = CollectorRegistry(auto_describe=False)
        merged.register(_Families(registries))
        body = openmetrics.generate_latest(merged)  # type: ignore[no-untyped-call]
        return body, openmetrics.CONTENT_TYPE_LATEST
    body = b"".join(generate_latest(registry) for registry in registries)
    return body, CONTENT_TYPE_LATEST


class _Families(Collector):
    def __init__(self, registries: Iterable[CollectorRegistry]) -> None:
        self._registries = tuple(registries)

    def collect(self) -> Iterable[Metric]:
        for registry in self._registries:
            yield from registry.collect()
