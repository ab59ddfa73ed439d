"""Every drill with its short settings against the real stack: the expected alert pages within
its budget, nothing is lost, the fault is repaired and resolved, the stack is healthy after
(redis-down and db-down run as the short game day of test_game_day.py)."""

from __future__ import annotations

import pytest

from soundcheck.stack.stack import Stack
from tests.drills.drill_runs import assert_drill_held_its_promise, run_short


def test_kafka_down_pages_and_every_outbox_event_is_delivered(stack: Stack) -> None:
    journal, said = run_short(stack, "kafka-down")
    assert_drill_held_its_promise(stack, journal, said)
    assert journal["loss"]["outbox"]["written"] > 0


@pytest.mark.slow_drill  # several minutes: `make drill-tests` runs it (tests/README.md)
def test_booking_crash_pages_and_the_service_comes_back(stack: Stack) -> None:
    journal, said = run_short(stack, "booking-crash")
    assert_drill_held_its_promise(stack, journal, said)
    assert [r["activity"] for r in journal["run"]] == ["kill-one-gunicorn-worker", "kill-booking"]
