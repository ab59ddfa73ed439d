"""A short game day (`soundcheck drill all --only redis-down,db-down --short`): both drills hold
their promise, and the game-day report opens in headless Chromium with its plots drawn, its
§7-1 table filled and a working link to each drill's report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from playwright.sync_api import BrowserContext

from soundcheck.drill.engine import DrillOptions
from soundcheck.drill.gameday import run_game_day
from soundcheck.stack.stack import Stack
from tests.drills.drill_runs import (
    SESSION_STARTED,
    SETTLE_SECONDS,
    assert_drill_held_its_promise,
    results_for,
    verdicts,
)
from tests.support.browser import ARTIFACTS, open_on_host, save_screenshot

DRILLS = ["redis-down", "db-down"]


def test_a_short_game_day_holds_the_promise_and_its_report_is_drawn(
    stack: Stack, chromium: BrowserContext
) -> None:
    said: list[str] = []
    options = DrillOptions(
        results=results_for("game-day"),
        settle_seconds=SETTLE_SECONDS,
        budget_alerts_since=SESSION_STARTED,  # the drill tests before it spent budget too
    )
    summary = run_game_day(stack, DRILLS, True, options, said.append)
    journals = [json.loads(Path(row["journal"]).read_text()) for row in summary["drills"]]
    assert [j["drill"] for j in journals] == DRILLS
    for journal in journals:
        assert_drill_held_its_promise(stack, journal, "\n".join(said))
    redis = journals[0]
    assert verdicts(redis)["degraded mode serving"] == "Pass"
    assert redis["traffic"]["inside"]["requests"] > 0

    report = Path(summary["folder"]) / "report.html"
    guarded = open_on_host(chromium, report.as_uri())
    page = guarded.page
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length === 3 && [...document"
        ".querySelectorAll('.js-plotly-plot')].every(p => p.querySelectorAll('.barlayer .trace')"
        ".length)",
        timeout=60_000,
    )
    plan_rows = page.locator("h2:has-text('§7-1') + table tr").count() - 1
    assert plan_rows == len(summary["plan"])
    assert page.locator("td:has-text('median')").count() >= 2  # detect and recover measured
    save_screenshot(page, "game-day-report")
    href = page.locator("a", has_text="redis-down").get_attribute("href")
    page.close()
    guarded.assert_stayed_on_host()
    drill_report = (report.parent / str(href)).resolve()
    assert drill_report == (Path(redis["folder"]) / "report.html").resolve()
    opened = open_on_host(chromium, drill_report.as_uri())
    opened.page.wait_for_function(
        "[...document.querySelectorAll('.js-plotly-plot')].filter(p => p.querySelector("
        "'.barlayer .trace, .scatterlayer .trace')).length >= 4",
        timeout=60_000,
    )
    assert opened.page.title() == "drill redis-down"
    save_screenshot(opened.page, "drill-report-redis-down")
    opened.page.close()
    opened.assert_stayed_on_host()
    shutil.copy(report, ARTIFACTS / "game-day-report.html")
