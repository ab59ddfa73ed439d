"""`soundcheck demo`'s job on the real stack: a small ticket opening, then the Redis drill."""

from __future__ import annotations

import io

from rich.console import Console

from soundcheck.demo import run_demo
from soundcheck.stack.part import State
from soundcheck.stack.stack import Stack


def test_demo_books_without_double_booking_and_pages_with_the_runbook(stack: Stack) -> None:
    out = io.StringIO()
    found = run_demo(stack, Console(file=out, width=200), users=24, drill_users=6)
    assert found["failed"] == [], out.getvalue()
    assert found["booked"] == 30  # every user got a seat: the losers of a race took spares
    assert found["sold_twice"] == []
    page = found["page"]
    assert page is not None, out.getvalue()
    assert "RedisDown" in page["body"]["payload"]["summary"]
    links = {link["text"]: link["href"] for link in page["body"]["links"]}
    assert links["runbook"] == f"{stack.part('router').address()}/runbooks/RedisDown"
    assert links["silence"].startswith(f"{stack.part('alertmanager').address()}/#/silences/new")
    assert links["source"].startswith(f"{stack.part('prometheus').address()}/graph")
    assert found["firing_after"] is not None
    assert found["paged_after"] >= found["firing_after"]
    assert stack.status(["redis"])[0].state is State.RUNNING  # the drill puts Redis back
    assert "seats reserved twice (MariaDB): none" in out.getvalue()
