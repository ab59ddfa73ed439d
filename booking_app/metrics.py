"""The booking service's business metrics (SPEC O2): defined once, and one function per thing
worth counting, so domain code reads `metrics.reservation_created("success")` instead of knowing
metric names and labels.

What every service shares (HTTP requests, SQL and Redis client calls, log shipping) is in
`instrumentation/metrics.py`; these exist only in the booking service's processes, so no other
service's `/metrics` shows them. Under gunicorn each gauge says how workers' values combine
(`multiprocess_mode`): a per-process quantity sums, a state takes the worst (max), a value every
process computes the same way takes the most recent.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

from instrumentation.multiprocess import ensure_multiprocess_dir

ensure_multiprocess_dir()  # a metric writes its file when it is defined, just below

# Plan §5-3-1 buckets, plus 2 s (the seat lock's default wait) and 3 s (its ttl).
LOCK_WAIT_BUCKETS = (0.005, 0.01, 0.03, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)
PAYMENT_BUCKETS_KRW = (1_000, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000)

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
QUEUE_ACTIVATION_LAST_RUN = Gauge(
    "queue_activation_last_run_timestamp_seconds",
    "Unix time of the last activation run that committed (the worker's timer every 10 s, a "
    "payment or an expiry), whether or not it activated anyone; 0 before the first.",
    multiprocess_mode="max",  # the newest run of any process, a stopped worker's included
)
QUEUE_WORKER_HEARTBEAT = Gauge(
    "queue_worker_heartbeat_timestamp_seconds",
    "Unix time the background worker's activation loop last finished a pass (it asks MariaDB "
    "for the next expiry at least every second): its age is how long the worker has been "
    "stopped, hung or unable to reach MariaDB.",
    multiprocess_mode="max",  # a stopped or killed worker's value stays, and ages
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

# --- database pool --------------------------------------------------------------------------
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
DB_LOCK_WAIT_TIMEOUTS = Counter(
    "db_lock_wait_timeouts_total",
    "Requests answered 503 because a row they needed stayed locked past the lock wait timeout.",
)
DB_DEADLOCKS_RETRIED = Counter(
    "db_deadlocks_retried_total",
    "Transactions MariaDB rolled back as a deadlock's victim and the service ran again.",
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

BOOKING_METRICS: tuple[MetricWrapperBase, ...] = (
    RESERVATION_CREATED,
    PAYMENT_AMOUNT,
    QUEUE_WAITING_TOKENS,
    QUEUE_ACTIVE_TOKENS,
    QUEUE_ACTIVATION_LAST_RUN,
    QUEUE_WORKER_HEARTBEAT,
    QUEUE_TOKENS_ACTIVATED,
    QUEUE_TOKENS_EXPIRED,
    LOCK_WAIT,
    LOCK_FAILURES,
    CACHE_REQUESTS,
    CACHE_HITS,
    DB_POOL_IN_USE,
    DB_POOL_SIZE,
    DB_POOL_EXHAUSTED,
    DB_LOCK_WAIT_TIMEOUTS,
    DB_DEADLOCKS_RETRIED,
    KAFKA_PRODUCED,
    KAFKA_FAILED,
    KAFKA_CONSUMER_LAG,
    OUTBOX_BACKLOG,
    CIRCUIT_BREAKER_STATE,
    DEGRADED_MODE,
)


# --- when they change -----------------------------------------------------------------------


def _inc(metric: Any, amount: float = 1.0, **labels: str) -> None:
    (metric.labels(**labels) if labels else metric).inc(amount)


def _set(metric: Any, value: float, **labels: str) -> None:
    (metric.labels(**labels) if labels else metric).set(value)


def _observe(metric: Any, value: float, **labels: str) -> None:
    (metric.labels(**labels) if labels else metric).observe(value)


def reservation_created(status: str) -> None:
    _inc(RESERVATION_CREATED, status=status)


def payment_completed(amount: int) -> None:
    _observe(PAYMENT_AMOUNT, float(amount))


def queue_waiting_tokens(count: int) -> None:
    _set(QUEUE_WAITING_TOKENS, float(count))


def queue_active_tokens(count: int) -> None:
    _set(QUEUE_ACTIVE_TOKENS, float(count))


def queue_activation_ran(at: float) -> None:
    _set(QUEUE_ACTIVATION_LAST_RUN, at)


def queue_worker_alive(at: float) -> None:
    _set(QUEUE_WORKER_HEARTBEAT, at)


def tokens_activated(count: int, trigger: str) -> None:
    _inc(QUEUE_TOKENS_ACTIVATED, float(count), trigger=trigger)


def tokens_expired(count: int, status: str) -> None:
    _inc(QUEUE_TOKENS_EXPIRED, float(count), status=status)


def lock_acquired(key: str, waited_seconds: float) -> None:
    _observe(LOCK_WAIT, waited_seconds, lock=key.split(":", 1)[0], outcome="acquired")


def lock_failed(key: str, waited_seconds: float, reason: str) -> None:
    _observe(LOCK_WAIT, waited_seconds, lock=key.split(":", 1)[0], outcome="failed")
    _inc(LOCK_FAILURES, lock=key.split(":", 1)[0], reason=reason)


def cache_read(cache_name: str, hit: bool) -> None:
    _inc(CACHE_REQUESTS, cache=cache_name)
    if hit:
        _inc(CACHE_HITS, cache=cache_name)


def db_pool_size(size: int) -> None:
    _set(DB_POOL_SIZE, float(size))


def db_pool_in_use(count: int) -> None:
    _set(DB_POOL_IN_USE, float(count))


def db_pool_exhausted() -> None:
    _inc(DB_POOL_EXHAUSTED)


def db_lock_wait_timeout() -> None:
    _inc(DB_LOCK_WAIT_TIMEOUTS)


def db_deadlock_retried() -> None:
    _inc(DB_DEADLOCKS_RETRIED)


def breaker_state(name: str, state: str) -> None:
    value = {"closed": 0.0, "half_open": 1.0, "open": 2.0}[state]
    _set(CIRCUIT_BREAKER_STATE, value, breaker=name)


def degraded_mode(on: bool) -> None:
    _set(DEGRADED_MODE, 1.0 if on else 0.0, component="redis")


def kafka_produced(topic: str) -> None:
    _inc(KAFKA_PRODUCED, topic=topic)


def kafka_failed(topic: str) -> None:
    _inc(KAFKA_FAILED, topic=topic)


def outbox_backlog(count: int) -> None:
    _set(OUTBOX_BACKLOG, float(count))


def consumer_lag(group: str, topic: str, lag: int) -> None:
    _set(KAFKA_CONSUMER_LAG, float(lag), group=group, topic=topic)
