"""Every Redis call goes through here: one client (plain or through Sentinel) behind a breaker.

A call either returns, or raises RedisUnavailable, quickly: when the breaker is open it is not
even tried. Callers decide their fallback (in-process lock, database read, 503).

Recovery does not wait for traffic: while the breaker is not closed or the process runs in
degraded mode, a background probe pings Redis (as the breaker's half-open trial), so a process
that gets no requests still closes its breaker and leaves degraded mode once Redis is back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from booking_app import metrics
from booking_app.breaker import BreakerOpen, BreakerState, CircuitBreaker
from booking_app.settings import BookingSettings

T = TypeVar("T")

RELEASE_IF_OWNER = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""

# Count an event once: remember its id (with an expiry) and bump the score in one atomic step.
INCREMENT_ONCE = """
if redis.call('set', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then
  redis.call('zincrby', KEYS[2], ARGV[1], ARGV[2])
  return 1
end
return 0
"""


# Between probes when no breaker trial is due (degraded with the breaker closed, or another
# thread's trial in flight): short, so recovery takes one reset interval, not two.
PROBE_PAUSE_SECONDS = 1.0


class RedisUnavailable(Exception):
    """Redis failed, timed out, or the breaker refused to try."""


def no_retry() -> Retry:
    """redis-py retries a failed command 3 times with backoff up to seconds by default; here the
    breaker decides, and a request must fail fast to its fallback instead of waiting."""
    return Retry(NoBackoff(), 0)


def make_client(settings: BookingSettings) -> redis.Redis:
    timeout = settings.redis_timeout_seconds
    if settings.redis_sentinels:
        sentinels = []
        for address in settings.redis_sentinels.split(","):
            host, _, port = address.strip().rpartition(":")
            sentinels.append((host, int(port)))
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            sentinels, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        master: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
            settings.redis_sentinel_master,
            db=settings.redis_db,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=no_retry(),
        )
        return master
    return redis.Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        db=settings.redis_db,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=no_retry(),
        health_check_interval=30,
    )


class RedisStore:
    def __init__(self, settings: BookingSettings, client: redis.Redis | None = None) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        self.breaker = CircuitBreaker(
            "redis",
            error_threshold_percent=settings.breaker_error_threshold_percent,
            reset_seconds=settings.breaker_reset_seconds,
            volume_threshold=settings.breaker_volume_threshold,
            window_seconds=settings.breaker_window_seconds,
            failure_types=(redis.RedisError, OSError),
            on_state_change=self._state_changed,
        )
        self._release = self.client.register_script(RELEASE_IF_OWNER)
        self._increment_once = self.client.register_script(INCREMENT_ONCE)
        # Guards the flags below. Taken inside the breaker's lock (state changes), so it is never
        # held while calling into the breaker.
        self._recovery_guard = threading.Lock()
        self._breaker_closed = True
        self._degraded = False
        self._degraded_entries = 0  # tells the probe that degraded mode was entered again
        self._probing = False
        metrics.breaker_state("redis", BreakerState.CLOSED)
        metrics.degraded_mode(False)

    def _state_changed(self, state: BreakerState) -> None:
        metrics.breaker_state("redis", state)
        with self._recovery_guard:
            self._breaker_closed = state is BreakerState.CLOSED
            if not self._breaker_closed:
                self._start_probe()

    # --- degraded mode and recovery -----------------------------------------------------------
    def enter_degraded_mode(self) -> None:
        """A caller fell back (in-process lock): say so, and probe until Redis answers again."""
        with self._recovery_guard:
            self._degraded = True
            self._degraded_entries += 1
            metrics.degraded_mode(True)
            self._start_probe()

    def leave_degraded_mode(self) -> None:
        """A caller used Redis successfully."""
        with self._recovery_guard:
            if self._degraded:
                self._degraded = False
                metrics.degraded_mode(False)

    def _start_probe(self) -> None:
        """With the guard held: one probe thread per process at most."""
        if not self._probing:
            self._probing = True
            threading.Thread(
                target=self._probe_until_recovered, name="redis-recovery-probe", daemon=True
            ).start()

    def _probe_until_recovered(self) -> None:
        while True:
            time.sleep(self.breaker.seconds_until_trial() or PROBE_PAUSE_SECONDS)
            with self._recovery_guard:
                entries_before = self._degraded_entries
            try:
                self.ping()
            except RedisUnavailable:
                continue
            with self._recovery_guard:
                if not self._breaker_closed:
                    continue  # another thread's trial is in flight, or Redis failed again
                if self._degraded_entries != entries_before:
                    continue  # someone fell back while we pinged: look once more
                if self._degraded:
                    self._degraded = False
                    metrics.degraded_mode(False)
                self._probing = False
                return

    def call(self, function: Callable[[redis.Redis], T]) -> T:
        try:
            return self.breaker.call(lambda: function(self.client))
        except BreakerOpen as error:
            raise RedisUnavailable(str(error)) from error
        except (redis.RedisError, OSError) as error:
            raise RedisUnavailable(f"{type(error).__name__}: {error}") from error

    # --- the operations the service uses ---------------------------------------------------
    def set_if_absent(self, key: str, value: str, ttl_ms: int) -> bool:
        return bool(self.call(lambda c: c.set(key, value, nx=True, px=ttl_ms)))

    def release_if_owner(self, key: str, owner: str) -> bool:
        return bool(self.call(lambda c: self._release(keys=[key], args=[owner], client=c)))

    def get(self, key: str) -> bytes | None:
        value: Any = self.call(lambda c: c.get(key))
        return value  # type: ignore[no-any-return]

    def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self.call(lambda c: c.set(key, value, px=max(1, int(ttl_seconds * 1000))))

    def delete(self, *keys: str) -> None:
        if keys:
            self.call(lambda c: c.delete(*keys))

    def increment_once(self, marker: str, board: str, member: str, amount: float) -> bool:
        week = 7 * 24 * 3600
        return bool(
            self.call(
                lambda c: self._increment_once(
                    keys=[marker, board], args=[amount, member, week], client=c
                )
            )
        )

    def top(self, board: str, count: int) -> list[tuple[str, float]]:
        rows: Any = self.call(lambda c: c.zrevrange(board, 0, count - 1, withscores=True))
        return [(m.decode() if isinstance(m, bytes) else str(m), float(s)) for m, s in rows]

    def ping(self) -> bool:
        return bool(self.call(lambda c: c.ping()))
