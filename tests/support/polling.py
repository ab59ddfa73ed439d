"""The one poll-until helper of tests and benchmarks: wait for a condition, never sleep for it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class NotWithin(AssertionError):
    """The condition did not hold in time (an AssertionError, so pytest reports a failure)."""


def eventually(
    check: Callable[[], T | None],
    within: float,
    what: str | Callable[[], str],
    every: float = 0.2,
) -> T:
    """Call `check` every `every` s until it returns something truthy, and return that.

    After `within` seconds raise `NotWithin` saying `what` was awaited; `what` may be a function,
    called only then, so the message can show the state that was last seen."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise NotWithin(f"not within {within:.0f} s: {said}")
        time.sleep(every)
