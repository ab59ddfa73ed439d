"""The platform's own failure points with their short settings against the real stack: the
paging provider down with the router crashing in it, the log pipeline down and a stale cache."""

from __future__ import annotations

from collections import Counter
from typing import Any

from soundcheck.drill.stale_cache import MARK, POLL_SECONDS, cache_ttl_seconds
from soundcheck.stack.stack import Stack
from tests.drills.drill_runs import (
    assert_drill_held_its_promise,
    assert_log_lines_found,
    mariadb_count,
    probe_passed,
    run_short,
    verdicts,
)


def run_completed(stack: Stack, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The drill's short run, completed (not failed or stopped), and its verdicts by check."""
    journal, said = run_short(stack, name)
    assert journal["status"] == "completed", said
    return journal, verdicts(journal)


def assert_repaired_and_nothing_lost(
    stack: Stack, found: dict[str, str], journal: dict[str, Any], left_behind: tuple[str, str]
) -> None:
    """Repaired, recovered, nothing lost or paged, and no row the drill marked left behind
    (`left_behind`: a COUNT query and its argument)."""
    for name in ("repaired", "recovery", "stack healthy afterwards", "no unexpected page"):
        assert found[name] == "Pass", (name, journal["checks"])
    for name in ("no double booking", "no event lost"):
        assert found[name] in ("Pass", "N/A"), (name, journal["loss"])
    assert_log_lines_found(journal)
    assert mariadb_count(stack, *left_behind) == 0


def test_stale_cache_is_served_no_longer_than_the_cache_ttl_and_nothing_pages(stack: Stack) -> None:
    journal, found = run_completed(stack, "stale-cache")
    measured = probe_passed(journal, "stale data served ≤ cache TTL")
    assert measured["ttl"] == cache_ttl_seconds()
    assert max(measured["samples"]) > POLL_SECONDS, measured  # the API really served old data
    assert journal["expect"]["alerts"] == []  # no alert watches stale data (plan FP#5's gap)
    assert journal["collateral"]["paged"] == [], journal["timeline"]["alerts"]
    marked = "SELECT COUNT(*) FROM schedules WHERE venue LIKE %s"
    assert_repaired_and_nothing_lost(stack, found, journal, (marked, f"%{MARK}"))


def test_log_pipeline_down_pages_and_every_acknowledged_log_line_is_found(stack: Stack) -> None:
    journal, said = run_short(stack, "log-pipeline-down")
    assert_drill_held_its_promise(stack, journal, said)
    (burst,) = [step for step in journal["run"] if step["activity"] == "send-marked-requests"]
    assert burst["output"].startswith("20 of 20 marked requests answered"), burst
    lines = journal["loss"]["log_lines"]
    assert lines["answered"] >= 20 + 4, lines  # the burst and the drill's one every 5 s
    assert lines["found"] == lines["to_find"] == lines["answered"], lines  # nothing left out


# Last: its collateral AlertDeliveriesFailing (a 5-minute rate) keeps firing ~5 min after the
# router is back, and the next drill's steady state would wait for it.
def test_pagerduty_outage_delivers_every_page_once_when_it_is_back(stack: Stack) -> None:
    journal, said = run_short(stack, "pagerduty-outage")
    assert_drill_held_its_promise(stack, journal, said)
    assert [r["activity"] for r in journal["run"]] == [
        "pagerduty-answers-500",
        "kill-router",
        "start-router",
    ]
    found = verdicts(journal)
    assert found["detect: AlertRouterDown firing"] == "Pass", said  # within the plan's 30 s
    assert found["AlertRouterDown paged once the paging path is back"] == "Pass", said
    down = journal["timeline"]["alerts"]["AlertRouterDown"]
    outage_ended = journal["rollbacks"][0]["end"]
    assert down["paged"] >= outage_ended - 1, said  # PagerDuty really refused it until then
    assert down["slack"] is not None, said
    assert down["slack"] < down["paged"], said  # Slack not held up by PagerDuty's retries
    triggers = Counter(
        (p["alertname"], p["key"]) for p in journal["timeline"]["pages"] if p["kind"] == "trigger"
    )
    assert all(n == 1 for n in triggers.values()), triggers  # no page delivered twice
