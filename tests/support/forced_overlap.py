"""Forcing a race instead of hoping for one: a race that happens only by chance passes by chance.

The test holds, in its own transaction, the row every contender's transaction must lock (a
seat, a reservation). Whoever gets past the service's locks then waits inside the database,
where the test counts them (information_schema.PROCESSLIST), until every contender is either
inside or answered. Only then does the test let go: all those inside race in the database at
once, every run. How many got inside at once is what the service's own locks allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from soundcheck.stack.parts.mariadb import app_connection
from tests.support.booking_instances import BookingInstance
from tests.support.polling import eventually


@dataclass
class Overlap:
    answers: list[httpx.Response]
    inside_at_once: int  # contenders that waited inside the database together

    @property
    def statuses(self) -> list[int]:
        return [answer.status_code for answer in self.answers]

    @property
    def errors(self) -> list[str]:
        return [a.json().get("error", "") for a in self.answers if a.status_code >= 400]


def statements_running(instance: BookingInstance, patterns: Sequence[str]) -> int:
    """The instance's statements running now whose text starts like one of `patterns`."""
    matches = " OR ".join("INFO LIKE %s" for _ in patterns)
    rows = instance.sql(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s "
        f"AND COMMAND = 'Query' AND ID <> CONNECTION_ID() AND ({matches})",
        instance.database,
        *patterns,
    )
    return int(rows[0][0])


def overlap(
    instance: BookingInstance,
    table: str,
    row_id: int,
    attempts: Sequence[Callable[[], httpx.Response]],
    inside: Sequence[str],
) -> Overlap:
    """Run `attempts` at once while holding row `row_id` of `table`; `inside` are the LIKE
    patterns of the statements a contender waits in once it got past the service's locks."""
    with app_connection(instance.settings, instance.database, autocommit=False) as holder:
        with holder.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", (row_id,))
        with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
            pending: list[Future[httpx.Response]] = [pool.submit(a) for a in attempts]

            def settled() -> tuple[int] | None:
                """Every contender inside the database or answered: the overlap is complete."""
                waiting = statements_running(instance, inside)
                answered = sum(1 for answer in pending if answer.done())
                return (waiting,) if waiting + answered == len(attempts) else None

            (inside_at_once,) = eventually(settled, 120, "every contender inside or answered")
            holder.rollback()  # let go: those inside now race in the database
            answers = [answer.result() for answer in pending]
    return Overlap(answers, inside_at_once)
