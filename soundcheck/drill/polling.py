"""The one runtime poll helper (drills, the demo, bench/alert_detection.py): ask until an answer
comes or the time is up, never sleep for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    what: Callable[[], T | None],
    within: float,
    every: float = 0.5,
    stop: Callable[[], bool] = lambda: False,
) -> T | None:
    """Call `what` every `every` s until it returns something truthy (returned) or `within` s
    pass or `stop()` says to give up (None)."""
    deadline = time.monotonic() + within
    while True:
        found = what()
        if found:
            return found
        if time.monotonic() >= deadline or stop():
            return None
        time.sleep(min(every, max(0.0, deadline - time.monotonic())))
