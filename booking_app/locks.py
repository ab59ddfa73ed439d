"""The distributed lock (plan 4-1, 4-2): Redis SET NX PX, released only by its owner.

When Redis is unavailable (error, timeout, or breaker open) the lock falls back to an in-process
lock and the service runs in degraded mode (a metric says so). That lock only excludes threads of
one process, so in degraded mode the database's unique constraints are what forbid double
bookings; the lock only keeps most of the contention away from the database.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from booking_app import metrics
from booking_app.redis_store import RedisStore, RedisUnavailable

log = logging.getLogger("booking_app.locks")


class LockTimeout(Exception):
    """The lock stayed taken for longer than we may wait."""


@dataclass(frozen=True)
class LockTimings:
    ttl_ms: int
    wait_ms: int
    retry_ms: int


class LocalLocks:
    """Named in-process locks, created on demand and dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str, wait_seconds: float) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            if not lock.acquire(timeout=wait_seconds):
                raise LockTimeout(key)
            try:
                yield
            finally:
                lock.release()
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)


class DistributedLock:
    def __init__(self, store: RedisStore, timings: LockTimings) -> None:
        self.store = store
        self.timings = timings
        self.local = LocalLocks()

    @contextmanager
    def hold(self, key: str) -> Iterator[str]:
        """Hold `key`; yields "redis" or "local" (degraded). Raises LockTimeout."""
        owner = uuid.uuid4().hex
        started = time.monotonic()
        try:
            acquired = self._acquire_in_redis(key, owner, started)
        except RedisUnavailable as why:
            acquired = None
            self.store.enter_degraded_mode()
            log.warning(
                "redis lock unavailable, using the in-process lock",
                extra={
                    "event": "distributed_lock.fallback",
                    "lock.key": key,
                    "error.message": str(why),
                },
            )
        if acquired is None:
            waited_ms = (time.monotonic() - started) * 1000
            remaining = max(0.0, (self.timings.wait_ms - waited_ms) / 1000)
            try:
                with self.local.hold(key, remaining):
                    metrics.lock_acquired(key, time.monotonic() - started)
                    yield "local"
            except LockTimeout:
                metrics.lock_failed(key, time.monotonic() - started, "timeout")
                raise
            return
        self.store.leave_degraded_mode()
        metrics.lock_acquired(key, time.monotonic() - started)
        log.debug("lock acquired", extra={"event": "distributed_lock.acquired", "lock.key": key})
        try:
            yield "redis"
        finally:
            try:
                released = self.store.release_if_owner(key, owner)
                log.debug(
                    "lock released",
                    extra={
                        "event": "distributed_lock.released",
                        "lock.key": key,
                        "lock.owned": released,
                    },
                )
            except RedisUnavailable:
                # It expires by itself after ttl; nobody else can release it meanwhile.
                log.warning(
                    "lock release failed; it expires after its ttl",
                    extra={"event": "distributed_lock.release_failed", "lock.key": key},
                )

    def _acquire_in_redis(self, key: str, owner: str, started: float) -> bool:
        deadline = started + self.timings.wait_ms / 1000
        while True:
            if self.store.set_if_absent(key, owner, self.timings.ttl_ms):
                return True
            if time.monotonic() + self.timings.retry_ms / 1000 > deadline:
                metrics.lock_failed(key, time.monotonic() - started, "timeout")
                log.warning(
                    "lock not acquired within the wait time",
                    extra={
                        "event": "distributed_lock.acquisition_failed",
                        "lock.key": key,
                        "lock.wait_ms": self.timings.wait_ms,
                    },
                )
                raise LockTimeout(key)
            time.sleep(self.timings.retry_ms / 1000)
