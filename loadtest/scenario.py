"""What a scenario is: the plan's stages and think time, what one virtual user does, which
thresholds judge it, and what is prepared before and checked after (in MariaDB).

Scenario modules import nothing from Locust: a virtual user talks through `Session`, which the
engine implements on Locust's FastHttpUser in the child process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from loadtest.stages import Stage


class Answer(Protocol):
    status: int

    def body(self) -> dict[str, Any]: ...

    def header(self, name: str) -> str | None: ...


class Session(Protocol):
    """One virtual user's view of the service (implemented by `loadtest.engine`)."""

    user_id: str  # unique per virtual user and run (`lt<run>-<n>`)
    params: dict[str, Any]  # what the scenario's `prepare` returned

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...],
        name: str | None = None,
        measured: bool = True,
        json: Any = None,
        headers: dict[str, str] | None = None,
        tag: str | None = None,
        require: tuple[str, str] | None = None,
    ) -> Answer:
        """One request. Any status outside `expect` counts as an error; `measured=False` marks
        the steps that are not what the scenario times (entering the queue, polling it); the
        answers' status codes are also counted under `tag` (e.g. per seat); `require`
        (key, value) is a field the body must hold for the answer to count as a success."""
        ...

    def sleep(self, seconds: float) -> None: ...

    def fresh_user_id(self) -> str:
        """A user id never used before in this run (the spike test's fresh userId)."""
        ...

    def random(self) -> float: ...


class Visitor(Protocol):
    """One virtual user: `start` once (e.g. get an ACTIVE token), then `iteration` forever."""

    def start(self, session: Session) -> None: ...

    def iteration(self, session: Session) -> None: ...


class Fixtures(Protocol):
    """What a scenario may prepare and check in the stack's MariaDB (`loadtest.fixtures`)."""

    run_id: str

    def create_schedule(self, seats: int) -> str: ...

    def seat_outcomes(self, schedule_id: str) -> dict[int, dict[str, int]]: ...

    def outbox_delivery(self, since: float, until: float) -> dict[str, Any]: ...

    def points_mismatches(self, user_prefix: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Scenario:
    name: str
    plan_id: str  # S1..S4, plan §2-3
    title: str
    stages: tuple[Stage, ...]
    think_seconds: float
    visitor: Callable[[], Visitor]
    thresholds: tuple[str, ...]
    # Latency thresholds are judged on these request names (the timed part); errors on all.
    measured: tuple[str, ...]
    # Prepares data in the parent before the load; returns the params every Session gets.
    prepare: Callable[[Fixtures, tuple[Stage, ...], float], dict[str, Any]] = (
        lambda fixtures, stages, think: {}
    )
    # Checks in the parent after the load; returns named figures thresholds read.
    check: Callable[[Fixtures, dict[str, Any], dict[str, Any]], dict[str, Any]] = (
        lambda fixtures, params, client: {}
    )
    # Open-model capacity: how many started visitors the arrivals take turns on (0: not
    # offered, e.g. S3, whose iteration includes waiting in the queue).
    capacity_visitors: int = 1
    # Open model: each arrival is a new user with a visitor of its own, started then iterated
    # once (S3: a completed payment expires its payer's token, so one user's arrivals cannot
    # overlap). Offered at a fixed rate to drills; the capacity search still needs visitors.
    fresh_arrivals: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
