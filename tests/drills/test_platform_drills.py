"""The platform's own failure points with their short settings against the real stack: the
paging provider down with the router crashing in it, the log pipeline down, the queue's
background worker stalled, the pool held by row locks and a stale cache."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from soundcheck.drill.queue_stall import USER_PREFIX
from soundcheck.drill.stale_cache import MARK, POLL_SECONDS, cache_ttl_seconds
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack
from tests.drills.drill_runs import assert_drill_held_its_promise, run_short, verdicts
from tests.drills.test_always_repair import worker_running


def mariadb_count(stack: Stack, sql: str, argument: str) -> int:
    settings = stack.settings
    with app_connection(settings, settings.mariadb_database) as conn, conn.cursor() as cursor:
        cursor.execute(sql, (argument,))
        row: Any = cursor.fetchone()
    return int(row[0])


def run_completed(stack: Stack, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The drill's short run, completed (not failed or stopped), and its verdicts by check."""
    journal, said = run_short(stack, name)
    assert journal["status"] == "completed", said
    return journal, verdicts(journal)


def probe_passed(journal: dict[str, Any], name: str) -> Any:
    """The measurement of the drill's own probe check `name`, which must have passed."""
    (found,) = [c for c in journal["probe_checks"] if c["name"] == name]
    assert found["verdict"] == "Pass", found
    return found["measured"]


def assert_repaired_and_nothing_lost(
    stack: Stack, found: dict[str, str], journal: dict[str, Any], left_behind: tuple[str, str]
) -> None:
    """Repaired, recovered, nothing lost or paged, and no row the drill marked left behind
    (`left_behind`: a COUNT query and its argument)."""
    for name in ("repaired", "recovery", "stack healthy afterwards", "no unexpected page"):
        assert found[name] == "Pass", (name, journal["checks"])
    for name in ("no double booking", "no event lost"):
        assert found[name] in ("Pass", "N/A"), (name, journal["loss"])
    assert mariadb_count(stack, *left_behind) == 0


@pytest.mark.slow_drill  # several minutes: `make drill-tests` runs it (tests/README.md)
def test_queue_activation_stall_is_real_and_its_verdict_says_the_page_is_late(stack: Stack) -> None:
    journal, found = run_completed(stack, "queue-activation-stall")
    probe_passed(journal, "queue activation stalled (the fault is real)")
    # The rule needs users waiting for 2 min, then `for: 1m`: no page inside the 20 s fault, and
    # the detection verdict says the plan's 30 s is missed rather than hiding it.
    assert found["detect: QueueActivationStalled paged"] == "Fail", journal["checks"]
    assert journal["timeline"]["alerts"].get("QueueActivationStalled", {}).get("paged") is None
    assert worker_running(stack)
    left = "SELECT COUNT(*) FROM queue_tokens WHERE user_id LIKE %s AND status <> 'EXPIRED'"
    assert_repaired_and_nothing_lost(stack, found, journal, (left, f"{USER_PREFIX}%"))


def test_stale_cache_is_served_no_longer_than_the_cache_ttl_and_nothing_pages(stack: Stack) -> None:
    journal, found = run_completed(stack, "stale-cache")
    measured = probe_passed(journal, "stale data served ≤ cache TTL")
    assert measured["ttl"] == cache_ttl_seconds()
    assert max(measured["samples"]) > POLL_SECONDS, measured  # the API really served old data
    assert journal["expect"]["alerts"] == []  # no alert watches stale data (plan FP#5's gap)
    assert journal["collateral"]["paged"] == [], journal["timeline"]["alerts"]
    marked = "SELECT COUNT(*) FROM schedules WHERE venue LIKE %s"
    assert_repaired_and_nothing_lost(stack, found, journal, (marked, f"%{MARK}"))


@pytest.mark.slow_drill  # several minutes: `make drill-tests` runs it (tests/README.md)
def test_log_pipeline_down_pages_and_every_acknowledged_log_line_is_found(stack: Stack) -> None:
    journal, said = run_short(stack, "log-pipeline-down")
    assert_drill_held_its_promise(stack, journal, said)
    measured = probe_passed(journal, "every acknowledged log line in Elasticsearch")
    assert measured["answered"] == measured["found"] == 20


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
    down = journal["timeline"]["alerts"]["AlertRouterDown"]
    outage_ended = journal["rollbacks"][0]["end"]
    assert down["paged"] >= outage_ended - 1, said  # PagerDuty really refused it until then
    assert down["slack"] is not None, said
    assert down["slack"] < down["paged"], said  # Slack not held up by PagerDuty's retries
    triggers = Counter(
        (p["alertname"], p["key"]) for p in journal["timeline"]["pages"] if p["kind"] == "trigger"
    )
    assert all(n == 1 for n in triggers.values()), triggers  # no page delivered twice
