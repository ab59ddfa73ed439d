"""Drill files: every shipped one parses, names functions that exist, and a wrong one is refused
with a sentence saying what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundcheck.drill.actions import resolve
from soundcheck.drill.definition import DrillError, drill_names, load_drill


def test_the_phase_one_drills_are_shipped() -> None:
    assert {"redis-down", "db-down", "kafka-down", "booking-crash"} <= set(drill_names())


@pytest.mark.parametrize("name", drill_names())
def test_every_drill_file_names_real_functions_and_an_alert(name: str) -> None:
    drill = load_drill(name)
    for activity in (*drill.setup, *drill.method, *drill.rollbacks, *drill.teardown):
        assert callable(resolve(activity))
    assert drill.rollbacks, "a drill without a repair would leave the fault in place"
    short = drill.short()
    assert short.hold_seconds <= 20
    assert short.traffic.rate <= drill.traffic.rate


def test_an_unknown_drill_is_refused_with_the_list() -> None:
    with pytest.raises(DrillError, match=r"No drill named 'redis-dwn'.*redis-down"):
        load_drill("redis-dwn")


def test_an_activity_without_a_function_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("title: x\nmethod:\n  - type: action\n    provider: {type: process}\n")
    with pytest.raises(DrillError, match=r"bad\.yaml: each activity needs provider"):
        load_drill(str(path))


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("title: x\n")
    with pytest.raises(DrillError, match=r"bad\.yaml: KeyError\(.method.\)"):
        load_drill(str(path))


def test_the_platform_and_phase_two_drills_are_shipped() -> None:
    assert {
        "queue-activation-stall",
        "pagerduty-outage",
        "log-pipeline-down",
        "db-pool-exhaustion",
        "stale-cache",
        "redis-failover",
    } <= set(drill_names())


def test_a_drill_that_starts_a_service_for_its_traffic_undoes_it_after_the_traffic() -> None:
    drill = load_drill("redis-failover")
    assert [a.func for a in drill.setup] == ["start_booking_on_sentinel"]
    assert [a.func for a in drill.teardown] == ["stop_booking_on_sentinel"]
    # a drill killed midway owes both: its rollbacks, then its teardown
    assert drill.repairs == drill.rollbacks + drill.teardown


def test_short_settings_may_stop_waiting_for_a_page_the_full_drill_awaits() -> None:
    drill = load_drill("pagerduty-outage")
    assert drill.hold_until_paged
    assert not drill.short().hold_until_paged  # CI ends the outage at the repair
    assert load_drill("redis-down").short().hold_until_paged  # unchanged when `ci` says nothing
