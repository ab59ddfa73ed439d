"""Read-through cache of concert data in Redis; every read says whether it was a hit.

Admin writes evict after their commit (write, then invalidate), and every entry has a short ttl,
so a lost eviction (Redis blip) leaves stale data for at most `cache_ttl_seconds` (plan FP#5).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import orjson

from booking_app import metrics
from booking_app.redis_store import RedisStore, RedisUnavailable

log = logging.getLogger("booking_app.cache")


def schedules_key(concert_id: str) -> str:
    return f"cache:concert:{concert_id}:schedules"


def seats_key(schedule_id: str) -> str:
    return f"cache:schedule:{schedule_id}:seats"


CONCERTS_KEY = "cache:concerts"


class ReadCache:
    def __init__(self, store: RedisStore, ttl_seconds: float) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds

    def read(self, name: str, key: str, load: Callable[[], Any]) -> tuple[Any, bool]:
        """The cached value, or `load()` stored for next time; and whether it was a hit."""
        try:
            cached = self.store.get(key)
        except RedisUnavailable:
            cached = None
        if cached is not None:
            metrics.cache_read(name, hit=True)
            return orjson.loads(cached), True
        metrics.cache_read(name, hit=False)
        value = load()
        if value is not None:
            # Served from the database either way; the next read tries the cache again.
            with contextlib.suppress(RedisUnavailable):
                self.store.set(key, orjson.dumps(value), self.ttl_seconds)
        return value, False

    def evict(self, *keys: str) -> None:
        try:
            self.store.delete(*keys)
        except RedisUnavailable:
            log.warning(
                "cache eviction failed; entries expire after their ttl",
                extra={"event": "cache.invalidation_failed", "cache.keys": list(keys)},
            )
