"""`soundcheck demo`'s job on the real stack: a short token-spike opening with its report, then the
redis-down drill: degraded mode books on, RedisDown pages with the runbook, nothing lost."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from soundcheck.demo import run_demo
from soundcheck.stack.part import State
from soundcheck.stack.stack import Stack


def test_demo_opens_books_through_redis_down_and_pages_with_the_runbook(stack: Stack) -> None:
    out = io.StringIO()
    found = run_demo(stack, Console(file=out, width=200), scale=0.05, users=0.01)
    said = out.getvalue()
    assert found.passed, said
    assert found.opening["client"]["all_requests"] > 0
    assert (Path(found.opening["run"]["folder"]) / "report.html").exists()
    assert (Path(found.drill["folder"]) / "report.html").exists()
    assert found.drill["loss"]["seats_sold_twice"] == 0
    assert found.drill["traffic"]["inside"]["requests"] > 0  # booked while Redis was down
    page = found.page
    assert page is not None, said
    links = page["links"]
    assert links["runbook"] == f"{stack.part('router').address()}/runbooks/RedisDown"
    incident = links["incident"]
    assert incident.startswith(f"{stack.part('router').address()}/incidents/")
    assert links["silence"] == f"{incident}/silence"  # the router's confirmation page
    assert links["source"].startswith(f"{stack.part('prometheus').address()}/graph")
    assert stack.status(["redis"])[0].state is State.RUNNING  # the drill puts Redis back
    assert "ok drill: no double booking" in said
