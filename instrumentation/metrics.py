"""Every Prometheus metric of SPEC O2, defined once, with help text, units in names, SLO buckets.

Services import the constants below and never invent metric names. Under gunicorn the values live
in `PROMETHEUS_MULTIPROC_DIR` (set before this module is first imported; the directory is wiped
when the master starts and a dead worker's live gauges are removed, see `gunicorn_hooks.py`).
Each gauge says how workers' values combine (`multiprocess_mode`): a per-process quantity sums,
a state takes the worst (max), a value every process computes the same way takes the most recent.
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

from instrumentation.multiprocess import multiprocess_dir

_directory = multiprocess_dir()
if _directory is not None:  # a metric writes its file when it is defined, just below
    _directory.mkdir(parents=True, exist_ok=True)

# Latency buckets: one at every threshold the alerts and the plan's SLA use
# (p95 < 0.5 s, p99 < 1 s, HighResponseTime p95 > 1 s, "slow request" > 1 s).
HTTP_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 2.5, 5.0, 10.0)
# Plan §5-3-1 buckets, plus 2 s (the seat lock's default wait) and 3 s (its ttl).
LOCK_WAIT_BUCKETS = (0.005, 0.01, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)
PAYMENT_BUCKETS_KRW = (1_000, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000)

# --- HTTP (both services) -------------------------------------------------------------------
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

# --- business (plan §5-3-1) -----------------------------------------------------------------
RESERVATION_CREATED = Counter(
    "reservation_created_total",
    "Reservation attempts by outcome (success, seat_taken, lock_timeout, not_found, ...).",
    ["status"],
)
PAYMENT_AMOUNT = Histogram(
    "payment_amount_krw",
    "Amount of each completed payment, in Korean won.",
    buckets=PAYMENT_BUCKETS_KRW,
)
QUEUE_WAITING_TOKENS = Gauge(
    "queue_waiting_tokens",
    "Queue tokens in state WAITING (as last counted by any process).",
    multiprocess_mode="livemostrecent",
)
QUEUE_ACTIVE_TOKENS = Gauge(
    "queue_active_tokens",
    "Queue tokens in state ACTIVE (as last counted by any process).",
    multiprocess_mode="livemostrecent",
)
QUEUE_TOKENS_ACTIVATED = Counter(
    "queue_tokens_activated_total",
    "Tokens moved from WAITING to ACTIVE, by trigger (timer, payment, expiry).",
    ["trigger"],
)
QUEUE_TOKENS_EXPIRED = Counter(
    "queue_tokens_expired_total",
    "Tokens expired by time, by the status they had (WAITING: not polled for its lifetime; "
    "ACTIVE: its lifetime ended unused). A user finishing is not counted.",
    ["status"],
)

# --- distributed lock -----------------------------------------------------------------------
LOCK_WAIT = Histogram(
    "distributed_lock_wait_duration_seconds",
    "Time spent waiting for a distributed lock, by lock kind and outcome (acquired, failed).",
    ["lock", "outcome"],
    buckets=LOCK_WAIT_BUCKETS,
)
LOCK_FAILURES = Counter(
    "distributed_lock_failures_total",
    "Distributed lock acquisitions that failed, by lock kind and reason (timeout, error).",
    ["lock", "reason"],
)

# --- cache ----------------------------------------------------------------------------------
CACHE_REQUESTS = Counter("cache_requests_total", "Cache lookups, by cache name.", ["cache"])
CACHE_HITS = Counter("cache_hits_total", "Cache lookups answered from the cache.", ["cache"])

# --- database -------------------------------------------------------------------------------
DB_POOL_IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections checked out of the pool, summed over worker processes.",
    multiprocess_mode="livesum",
)
DB_POOL_SIZE = Gauge(
    "db_pool_size",
    "Database connections the pool may open (size + overflow), summed over worker processes.",
    multiprocess_mode="livesum",
)
DB_POOL_EXHAUSTED = Counter(
    "db_pool_exhausted_total",
    "Requests refused with 503 because no database connection was free in time.",
)
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

# --- Kafka and the outbox -------------------------------------------------------------------
KAFKA_PRODUCED = Counter(
    "kafka_messages_produced_total",
    "Messages the broker acknowledged, by topic.",
    ["topic"],
)
KAFKA_FAILED = Counter(
    "kafka_messages_failed_total",
    "Messages whose delivery failed (to be retried from the outbox), by topic.",
    ["topic"],
)
KAFKA_CONSUMER_LAG = Gauge(
    "kafka_consumer_lag",
    "Messages not yet consumed (high watermark minus committed offset), by group and topic.",
    ["group", "topic"],
    multiprocess_mode="livemostrecent",
)
OUTBOX_BACKLOG = Gauge(
    "outbox_pending_events",
    "Outbox rows not yet published to Kafka.",
    multiprocess_mode="livemostrecent",
)

# --- resilience -----------------------------------------------------------------------------
CIRCUIT_BREAKER_STATE = Gauge(
    "circuit_breaker_state",
    "Circuit breaker state: 0 closed, 1 half-open, 2 open (worst over worker processes).",
    ["breaker"],
    multiprocess_mode="livemax",
)
DEGRADED_MODE = Gauge(
    "degraded_mode_active",
    "1 while a component runs in degraded mode (e.g. in-process locks while Redis is down).",
    ["component"],
    multiprocess_mode="livemax",
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

ALL_METRICS: tuple[MetricWrapperBase, ...] = (
    HTTP_REQUESTS,
    HTTP_DURATION,
    RESERVATION_CREATED,
    PAYMENT_AMOUNT,
    QUEUE_WAITING_TOKENS,
    QUEUE_ACTIVE_TOKENS,
    QUEUE_TOKENS_ACTIVATED,
    QUEUE_TOKENS_EXPIRED,
    LOCK_WAIT,
    LOCK_FAILURES,
    CACHE_REQUESTS,
    CACHE_HITS,
    DB_POOL_IN_USE,
    DB_POOL_SIZE,
    DB_POOL_EXHAUSTED,
    DB_QUERIES,
    REDIS_COMMANDS,
    KAFKA_PRODUCED,
    KAFKA_FAILED,
    KAFKA_CONSUMER_LAG,
    OUTBOX_BACKLOG,
    CIRCUIT_BREAKER_STATE,
    DEGRADED_MODE,
    LOG_RECORDS_DROPPED,
    LOG_RECORDS_SHIPPED,
    LOG_RECORDS_BUFFERED,
    LOG_SHIPPING_ERRORS,
)


class _EveryMetricCollector(Collector):
    """Multiprocess values, plus an empty family for metrics no process has touched yet.

    The multiprocess collector only knows metrics that have a file; an on-call engineer (and
    the dashboards' query checks) must still see every O2 metric name from the first scrape.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def collect(self) -> Iterable[Metric]:
        seen: set[str] = set()
        collector = multiprocess.MultiProcessCollector(None, str(self._directory))  # type: ignore[no-untyped-call]
        for family in collector.collect():  # type: ignore[no-untyped-call]
            seen.add(family.name)
            yield family
        for metric in ALL_METRICS:
            for family in metric.describe():
                if family.name not in seen:
                    yield Metric(family.name, family.documentation, family.type)


def exposition_registry() -> CollectorRegistry:
    """The registry `/metrics` renders: all workers' values under gunicorn, else this process."""
    directory = multiprocess_dir()
    if directory is None:
        return REGISTRY
    registry = CollectorRegistry()
    registry.register(_EveryMetricCollector(directory))
    return registry


def render_metrics(*own_registries: CollectorRegistry, accept: str = "") -> tuple[bytes, str]:
    """The exposition and its content type: OpenMetrics (with exemplars carrying trace ids)
    when the scraper accepts it, else the Prometheus text format.

    A service with metrics of its own in another registry (the router) passes it here, so one
    `/metrics` shows both.
    """
    registries = (exposition_registry(), *own_registries)
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
