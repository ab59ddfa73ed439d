"""The one interface every notifier has, and the graph callback they share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from router.outcome import Job, Outcome

GraphSource = Callable[[dict[str, Any]], bytes | None]


class Notifier(Protocol):
    target: str

    def deliver(self, job: Job) -> Outcome: ...


def status_word(job: Job) -> str:
    return "FIRING" if job.firing else "RESOLVED"
