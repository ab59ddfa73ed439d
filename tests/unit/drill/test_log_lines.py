"""The acknowledged-log-lines check: which marked lines must be found (not those the service may
never have shipped before a SIGKILL), and when a line missing or stored twice fails it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from soundcheck.drill.log_loss import LogMarkers, lines_check, lines_to_find, service_kills
from soundcheck.drill.verdicts import FAIL, NA, PASS
from soundcheck.settings import StackSettings

RUN = [
    {"func": "stop_parts", "arguments": {"parts": ["elasticsearch"]}, "start": 100.0},
    {"func": "kill_part", "arguments": {"part": "pipeline"}, "start": 105.0},
    {"func": "kill_gunicorn_worker", "arguments": {}, "start": 110.0},
    {"func": "kill_part", "arguments": {"part": "booking"}, "start": 120.0},
]


def markers(answered: dict[str, float], tmp_path: Path) -> LogMarkers:
    found = LogMarkers(StackSettings(home=tmp_path))
    found.answered.update(answered)
    return found


def test_only_sigkills_of_the_booking_service_are_kills() -> None:
    assert service_kills(RUN) == [110.0, 120.0]  # the pipeline's acks must hold: not excused


def test_lines_answered_just_before_a_kill_are_not_required() -> None:
    answered = {"a": 104.5, "b": 107.5, "c": 109.0, "d": 110.5, "e": 118.5, "f": 119.9}
    assert lines_to_find(answered, service_kills(RUN)) == {"a", "b", "d"}


def test_every_line_found_once_passes_and_a_missing_or_doubled_one_fails(tmp_path: Path) -> None:
    run = markers({"a": 1.0, "b": 2.0}, tmp_path)
    passed = lines_check(run, {"a", "b"}, Counter({"a": 1, "b": 1, "unanswered": 1}), 3.0)
    assert passed["verdict"] == PASS
    assert passed["measured"]["found"] == 2
    missing = lines_check(run, {"a", "b"}, Counter({"a": 1}), 120.0)
    assert (missing["verdict"], missing["measured"]["missing"]) == (FAIL, ["b"])
    doubled = lines_check(run, {"a", "b"}, Counter({"a": 2, "b": 1}), 3.0)
    assert (doubled["verdict"], doubled["measured"]["found_more_than_once"]) == (FAIL, ["a"])
    excused = lines_check(run, {"a"}, Counter({"a": 1}), 3.0)
    assert excused["measured"]["answered_just_before_a_kill"] == 1


def test_nothing_to_find_is_not_judged(tmp_path: Path) -> None:
    assert lines_check(markers({}, tmp_path), set(), Counter(), 0.0)["verdict"] == NA
