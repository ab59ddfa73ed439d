"""The per-process singletons the request handlers and the worker share."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

from booking_app.cache import ReadCache
from booking_app.db import Database
from booking_app.locks import DistributedLock, LockTimings
from booking_app.redis_store import RedisStore
from booking_app.settings import BookingSettings, load_settings


@dataclass(frozen=True)
class Services:
    settings: BookingSettings
    db: Database
    redis: RedisStore
    lock: DistributedLock
    cache: ReadCache


def build_services(settings: BookingSettings, serves_requests: bool = True) -> Services:
    """`serves_requests=False` for the background worker (its pool is not in the pool gauges)."""
    store = RedisStore(settings)
    timings = LockTimings(settings.lock_ttl_ms, settings.lock_wait_ms, settings.lock_retry_ms)
    return Services(
        settings=settings,
        db=Database(settings, serves_requests),
        redis=store,
        lock=DistributedLock(store, timings),
        cache=ReadCache(store, settings.cache_ttl_seconds),
    )


# A gunicorn worker's first requests arrive together: built by each of them at once, the process
# got several pools and breakers, and several sets of in-process locks that excluded nothing.
_first_build = threading.Lock()


def services() -> Services:
    with _first_build:
        return _built_once()


@cache
def _built_once() -> Services:
    return build_services(load_settings())


def close_services() -> None:
    """At a worker's exit: close what this process built, if it built anything."""
    if _built_once.cache_info().currsize:
        _built_once().db.close()
