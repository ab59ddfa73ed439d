"""report.html in headless Chromium (Debian's, driven by Playwright): the plots are drawn, the
page asks nothing of the network, and a screenshot is kept for people to look at."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import BrowserContext

from tests.support.browser import ARTIFACTS, open_on_host, save_screenshot
from tests.support.load_runs import LoadResult


def open_report(chromium: BrowserContext, report: Path) -> tuple[list[str], dict[str, int]]:
    """Every URL the page asked for (anything but the file itself is refused), and counts of
    what plotly drew."""
    guarded = open_on_host(chromium, report.as_uri())
    page = guarded.page
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
    save_screenshot(page, "load-report-reservation-stress")
    page.close()
    return guarded.requested, counts


def test_report_draws_its_plots_offline(
    chromium: BrowserContext, reservation_stress: LoadResult
) -> None:
    folder = reservation_stress.folder
    assert folder is not None
    report = folder / "report.html"
    asked, counts = open_report(chromium, report)
    assert asked == [report.as_uri()], f"the report asked the network for {asked[1:]}"
    # latency, throughput, users, CPU, and the server panels that had something to show
    assert counts["plots"] >= 5
    assert counts["plots_with_traces"] == counts["plots"]
    assert counts["lines"] >= 8
    assert counts["threshold_rows"] == len(reservation_stress.summary["thresholds"])
    assert (ARTIFACTS / "load-report-reservation-stress.png").stat().st_size > 50_000
    shutil.copy(report, ARTIFACTS / "load-report-reservation-stress.html")
