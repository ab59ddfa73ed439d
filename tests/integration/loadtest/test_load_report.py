"""report.html in headless Chromium (Debian's, driven by Playwright): the plots are drawn, the
page asks nothing of the network, and a screenshot is kept for people to look at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Route, sync_playwright

from soundcheck import REPO_ROOT
from tests.support.load_runs import LoadResult

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "results" / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make setup` (it installs it).")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        # A fresh profile (--user-data-dir) each run: nothing cached from an earlier one.
        browser = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
        )
        yield browser
        browser.close()


def open_report(
    chromium: BrowserContext, report: Path, screenshot: Path
) -> tuple[list[str], dict[str, int]]:
    """Every URL the page asked for (anything but the file itself is refused), and counts of
    what plotly drew."""
    asked: list[str] = []

    def record(route: Route) -> None:
        asked.append(route.request.url)
        if route.request.url == report.as_uri():
            route.continue_()
        else:
            route.abort()

    page = chromium.new_page()
    page.route("**/*", record)
    page.goto(report.as_uri())
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length > 0 && [...document"
        ".querySelectorAll('.js-plotly-plot')].every(p => p.querySelector('.main-svg'))",
        timeout=60_000,
    )
    counts = {
        "plots": page.locator(".js-plotly-plot").count(),
        "plots_with_traces": page.evaluate(
            "[...document.querySelectorAll('.js-plotly-plot')]"
            ".filter(p => p.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length)"
            ".length"
        ),
        "lines": page.locator(".scatterlayer .trace path.js-line").count(),
        "threshold_rows": page.locator("h2:has-text('Thresholds') + table tr").count() - 1,
    }
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    return asked, counts


def test_report_draws_its_plots_offline(
    chromium: BrowserContext, reservation_stress: LoadResult
) -> None:
    folder = reservation_stress.folder
    assert folder is not None
    report = folder / "report.html"
    screenshot = ARTIFACTS / "load-report-reservation-stress.png"
    asked, counts = open_report(chromium, report, screenshot)
    assert asked == [report.as_uri()], f"the report asked the network for {asked[1:]}"
    # latency, throughput, users, CPU, and the server panels that had something to show
    assert counts["plots"] >= 5
    assert counts["plots_with_traces"] == counts["plots"]
    assert counts["lines"] >= 8
    assert counts["threshold_rows"] == len(reservation_stress.summary["thresholds"])
    assert screenshot.stat().st_size > 50_000
    shutil.copy(report, ARTIFACTS / "load-report-reservation-stress.html")
