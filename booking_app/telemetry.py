"""The booking service's side of the O2 metrics: one function per thing worth counting.

Every metric is defined once, in `instrumentation/metrics.py` (the instrumentation's module); this
module only says *when* they change, so domain code reads `telemetry.seat_reserved()` instead of
knowing metric names and labels.
"""

from __future__ import annotations

from typing import Any

from instrumentation import metrics


def _inc(metric: Any, amount: float = 1.0, **labels: str) -> None:
    (metric.labels(**labels) if labels else metric).inc(amount)


def _set(metric: Any, value: float, **labels: str) -> None:
    (metric.labels(**labels) if labels else metric).set(value)


def _observe(metric: Any, value: float, **labels: str) -> None:
    (metric.labels(**labels) if labels else metric).observe(value)


def reservation_created(status: str) -> None:
    _inc(metrics.RESERVATION_CREATED, status=status)


def payment_completed(amount: int) -> None:
    _observe(metrics.PAYMENT_AMOUNT, float(amount))


def queue_waiting_tokens(count: int) -> None:
    _set(metrics.QUEUE_WAITING_TOKENS, float(count))


def queue_active_tokens(count: int) -> None:
    _set(metrics.QUEUE_ACTIVE_TOKENS, float(count))


def tokens_activated(count: int, trigger: str) -> None:
    _inc(metrics.QUEUE_TOKENS_ACTIVATED, float(count), trigger=trigger)


def tokens_expired(count: int, status: str) -> None:
    _inc(metrics.QUEUE_TOKENS_EXPIRED, float(count), status=status)


def lock_acquired(key: str, waited_seconds: float, backend: str) -> None:
    _observe(metrics.LOCK_WAIT, waited_seconds, lock=key.split(":", 1)[0], outcome="acquired")


def lock_failed(key: str, waited_seconds: float, reason: str) -> None:
    _observe(metrics.LOCK_WAIT, waited_seconds, lock=key.split(":", 1)[0], outcome="failed")
    _inc(metrics.LOCK_FAILURES, lock=key.split(":", 1)[0], reason=reason)


def cache_read(cache_name: str, hit: bool) -> None:
    _inc(metrics.CACHE_REQUESTS, cache=cache_name)
    if hit:
        _inc(metrics.CACHE_HITS, cache=cache_name)


def db_pool_size(size: int) -> None:
    _set(metrics.DB_POOL_SIZE, float(size))


def db_pool_in_use(count: int) -> None:
    _set(metrics.DB_POOL_IN_USE, float(count))


def db_pool_exhausted() -> None:
    _inc(metrics.DB_POOL_EXHAUSTED)


def breaker_state(name: str, state: str) -> None:
    value = {"closed": 0.0, "half_open": 1.0, "open": 2.0}[state]
    _set(metrics.CIRCUIT_BREAKER_STATE, value, breaker=name)


def degraded_mode(on: bool) -> None:
    _set(metrics.DEGRADED_MODE, 1.0 if on else 0.0, component="redis")


def kafka_produced(topic: str) -> None:
    _inc(metrics.KAFKA_PRODUCED, topic=topic)


def kafka_failed(topic: str) -> None:
    _inc(metrics.KAFKA_FAILED, topic=topic)


def outbox_backlog(count: int) -> None:
    _set(metrics.OUTBOX_BACKLOG, float(count))


def consumer_lag(group: str, topic: str, lag: int) -> None:
    _set(metrics.KAFKA_CONSUMER_LAG, float(lag), group=group, topic=topic)
