"""The circuit breaker's states, driven by a fake clock (plan 4-4 semantics)."""

from __future__ import annotations

import pytest

from booking_app.breaker import BreakerOpen, BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, changes: list[BreakerState]) -> CircuitBreaker:
    return CircuitBreaker(
        "test",
        error_threshold_percent=50,
        reset_seconds=30,
        volume_threshold=10,
        window_seconds=10,
        failure_types=(ConnectionError,),
        on_state_change=changes.append,
        clock=clock,
    )


def fail() -> None:
    raise ConnectionError("down")


def failing_calls(b: CircuitBreaker, count: int) -> None:
    for _ in range(count):
        with pytest.raises(ConnectionError):
            b.call(fail)


def test_breaker_stays_closed_below_minimum_volume() -> None:
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    failing_calls(b, 9)
    assert b.state is BreakerState.CLOSED


def test_breaker_opens_at_half_errors_and_refuses_without_calling() -> None:
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    for _ in range(5):
        b.call(lambda: None)
    failing_calls(b, 5)
    assert b.state is BreakerState.OPEN
    called = []
    with pytest.raises(BreakerOpen):
        b.call(lambda: called.append(1))
    assert not called
    assert changes == [BreakerState.OPEN]


def test_breaker_half_opens_after_reset_and_closes_on_a_good_trial() -> None:
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    failing_calls(b, 10)
    clock.now += 30
    assert b.state is BreakerState.HALF_OPEN
    assert b.call(lambda: "ok") == "ok"
    assert b.state is BreakerState.CLOSED


def test_failed_trial_reopens_the_breaker() -> None:
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    failing_calls(b, 10)
    clock.now += 30
    with pytest.raises(ConnectionError):
        b.call(fail)
    assert b.state is BreakerState.OPEN
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.OPEN]


def test_old_failures_leave_the_window() -> None:
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    failing_calls(b, 9)
    clock.now += 11
    b.call(lambda: None)  # the nine failures are outside the 10 s window now
    assert b.state is BreakerState.CLOSED


def test_an_open_breaker_says_when_its_trial_is_due() -> None:
    """What the recovery probe sleeps on: it pings at the first moment a trial may go through."""
    clock, changes = Clock(), []
    b = breaker(clock, changes)
    assert b.seconds_until_trial() == 0.0
    failing_calls(b, 10)
    clock.now += 12
    assert b.seconds_until_trial() == 18.0
    clock.now += 18
    assert b.seconds_until_trial() == 0.0
    with pytest.raises(ConnectionError):
        b.call(fail)  # the trial fails: a whole reset interval again
    assert b.seconds_until_trial() == 30.0
