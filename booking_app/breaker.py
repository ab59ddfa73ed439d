"""A circuit breaker (plan 4-4): stop calling a failing dependency, try again after a pause.

CLOSED counts outcomes over a sliding window; with at least `volume_threshold` calls and an error
share at or above `error_threshold_percent` it OPENS and refuses calls at once. After
`reset_seconds` it lets one trial call through (HALF_OPEN): success closes it, failure re-opens.
The call timeout itself is the client's socket timeout, so a hung server counts as a failure.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerOpen(Exception):
    """The breaker refused the call without trying it."""


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        error_threshold_percent: float,
        reset_seconds: float,
        volume_threshold: int,
        window_seconds: float,
        failure_types: tuple[type[BaseException], ...],
        on_state_change: Callable[[BreakerState], None] = lambda _state: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.error_threshold_percent = error_threshold_percent
        self.reset_seconds = reset_seconds
        self.volume_threshold = volume_threshold
        self.window_seconds = window_seconds
        self.failure_types = failure_types
        self.on_state_change = on_state_change
        self.clock = clock
        self._lock = threading.Lock()
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._current_state()

    def seconds_until_trial(self) -> float:
        """How long an OPEN breaker still refuses every call (0 once a trial may go through)."""
        with self._lock:
            if self._state is not BreakerState.OPEN:
                return 0.0
            return max(0.0, self._opened_at + self.reset_seconds - self.clock())

    def _current_state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and (
            self.clock() - self._opened_at >= self.reset_seconds
        ):
            self._set(BreakerState.HALF_OPEN)
        return self._state

    def _set(self, state: BreakerState) -> None:
        if state is not self._state:
            self._state = state
            if state is BreakerState.OPEN:
                self._opened_at = self.clock()
            if state is BreakerState.CLOSED:
                self._outcomes.clear()
            self.on_state_change(state)

    def _admit(self) -> bool:
        """Whether this call may go through; True means it is the half-open trial call."""
        with self._lock:
            state = self._current_state()
            if state is BreakerState.CLOSED:
                return False
            if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
                self._trial_in_flight = True
                return True
            raise BreakerOpen(f"circuit breaker {self.name} is {state}")

    def _record(self, ok: bool, trial: bool) -> None:
        with self._lock:
            now = self.clock()
            if trial:
                self._trial_in_flight = False
                self._set(BreakerState.CLOSED if ok else BreakerState.OPEN)
                return
            if self._state is not BreakerState.CLOSED:
                return
            self._outcomes.append((now, ok))
            while self._outcomes and now - self._outcomes[0][0] > self.window_seconds:
                self._outcomes.popleft()
            calls = len(self._outcomes)
            failures = sum(1 for _, good in self._outcomes if not good)
            if (
                calls >= self.volume_threshold
                and failures * 100.0 / calls >= self.error_threshold_percent
            ):
                self._set(BreakerState.OPEN)

    def call(self, function: Callable[[], T]) -> T:
        trial = self._admit()
        try:
            result = function()
        except self.failure_types:
            self._record(False, trial)
            raise
        except BaseException:
            if trial:
                with self._lock:
                    self._trial_in_flight = False
            raise
        self._record(True, trial)
        return result
