"""The verdict arithmetic: the fault window splits the traffic's seconds, the score weighs the
judged checks, and an interrupted drill is Stopped, not failed."""

from __future__ import annotations

from typing import Any

from soundcheck.drill.definition import Drill, load_drill
from soundcheck.drill.journal import new_journal
from soundcheck.drill.measure import good_again_at, window_figures
from soundcheck.drill.verdicts import FAIL, NA, PASS, check, judge, score, verdict


def client() -> dict[str, Any]:
    series = [
        {"t": t, "requests": 10, "failures": 5 if 103 <= t < 106 else 0} for t in range(100, 110)
    ]
    per_second = {
        str(t): {
            "ms": [float(t)],
            "failed": {"POST /reservations 503": 5} if 103 <= t < 106 else {},
        }
        for t in range(100, 110)
    }
    return {"series": series, "per_second": per_second}


def test_failures_inside_the_fault_window_are_counted_by_request_and_status() -> None:
    inside = window_figures(client(), (103.2, 105.9), want_inside=True)
    outside = window_figures(client(), (103.2, 105.9), want_inside=False)
    assert (inside["requests"], inside["failures"]) == (30, 15)
    assert inside["failed_by_request"] == {"POST /reservations 503": 15}
    assert inside["availability_percent"] == 50.0
    assert (outside["requests"], outside["failures"], outside["availability_percent"]) == (
        70,
        0,
        100.0,
    )


def test_answers_are_good_again_after_the_last_failed_second() -> None:
    assert good_again_at(client(), 104.0) == 106.0
    assert good_again_at(client(), 107.0) == 107.0


def test_the_score_weighs_only_the_judged_checks() -> None:
    checks = [
        check("a", "EOT", 10, True, 1, ""),
        check("b", "EOT", 5, False, 1, ""),
        check("c", "EOT", 5, None, None, ""),
    ]
    assert [c["verdict"] for c in checks] == [PASS, FAIL, NA]
    assert score(checks) == 66.7
    assert verdict(checks, "completed") == FAIL
    assert verdict(checks[:1], "completed") == PASS
    assert verdict(checks, "interrupted") == "Stopped"


def test_a_probes_finding_is_judged_with_the_checks() -> None:
    drill = load_drill("stale-cache")
    journal = new_journal(drill, "short", "test")
    journal["window"].update(fault_started=100.0, repair_started=110.0)
    journal["probe_checks"].append(
        check("stale data served ≤ cache TTL", "OnChaos", 8, False, 9.5, "≤ 5 s")
    )
    found = {c["name"]: c["verdict"] for c in judge(drill, journal)}
    assert found["stale data served ≤ cache TTL"] == "Fail"


def judged(
    name: str, alert: str, firing: float, paged: float
) -> tuple[Drill, dict[str, Any], dict[str, tuple[str, Any]]]:
    """A short journal of drill `name` whose fault began at 100 s and whose alert fired and
    paged at the given times; its checks by name: (verdict, measured)."""
    drill = load_drill(name)
    journal = new_journal(drill, "short", "test")
    journal["window"].update(fault_started=100.0, repair_started=220.0)
    journal["timeline"]["alerts"][alert] = {"alertmanager": firing, "paged": paged}
    return drill, journal, {c["name"]: (c["verdict"], c["measured"]) for c in judge(drill, journal)}


def test_where_the_paging_path_is_the_fault_detection_is_the_alert_firing() -> None:
    """pagerduty-outage: PagerDuty refuses pages for 2 minutes, so the page cannot come within
    30 s; detection is AlertRouterDown firing at Alertmanager, the page is judged on its own."""
    drill, journal, found = judged("pagerduty-outage", "AlertRouterDown", 122.0, 245.0)
    assert found["detect: AlertRouterDown firing"] == (PASS, 22.0)
    assert found["AlertRouterDown paged once the paging path is back"] == (PASS, 145.0)
    assert "detect: AlertRouterDown paged" not in found
    journal["timeline"]["alerts"]["AlertRouterDown"] = {"alertmanager": 140.0, "paged": None}
    found = {c["name"]: c["verdict"] for c in judge(drill, journal)}
    assert found["detect: AlertRouterDown firing"] == FAIL
    assert found["AlertRouterDown paged once the paging path is back"] == FAIL


def test_elsewhere_detection_is_the_page() -> None:
    _, _, found = judged("redis-down", "RedisDown", 112.0, 131.0)
    assert found["detect: RedisDown paged"] == (FAIL, 31.0)
