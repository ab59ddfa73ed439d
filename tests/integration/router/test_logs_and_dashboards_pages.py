"""The router's /logs and /dashboards pages in headless Chromium against the real stack: a log
line sent through the real pipeline found by its trace id (its hostile message kept as text),
every dashboard drawing each of its panels with data from Prometheus, nothing from the network."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page

from dashboards.definitions import DASHBOARDS
from dashboards.spec import DashboardSpec
from pipeline.forward_client import ForwardClient
from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.booking_load import drive_load, release_customers
from tests.support.browser import page_on_host, save_screenshot
from tests.support.polling import eventually

HOSTILE = '<script>window.__hostile = 1</script><img src=x onerror="window.__hostile = 2">'
DRAWN_PANELS = """[...document.querySelectorAll('.panel .js-plotly-plot')]
    .filter(plot => plot.querySelectorAll('.scatterlayer .trace').length).length"""


@pytest.fixture(scope="module")
def router(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.part("router").address(), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def logged_trace(settings: StackSettings, router: httpx.Client) -> str:
    """A trace id whose one log line (an error with a hostile message) went through the
    stack's pipeline (forward protocol, acked) into Elasticsearch, and that /logs finds."""
    trace_id = secrets.token_hex(16)
    record = {
        "service.name": "views-check",
        "log.level": "ERROR",
        "event.action": "payment.failed",
        "message": f"payment failed {HOSTILE}",
        "trace.id": trace_id,
    }
    with ForwardClient(settings.host, settings.pipeline_forward_port) as client:
        client.send("views-check.app", [record])
    found = f">{trace_id}</a>"  # a row's trace link, not the filter's echo
    eventually(
        lambda: found in router.get("/logs", params={"trace_id": trace_id}).text,
        120,
        "the log line is searchable from /logs",
    )
    return trace_id


def test_logs_page_finds_a_line_by_trace_id(
    chromium: BrowserContext, router: httpx.Client, logged_trace: str
) -> None:
    url = f"{router.base_url}/logs?trace_id={logged_trace}&from=now-1h"
    with page_on_host(chromium, url) as page:
        rows = page.locator("table.logs tbody tr")
        assert rows.count() == 1
        assert rows.first.locator("td").nth(1).inner_text() == "views-check"
        assert rows.first.locator("td.trace a").inner_text() == logged_trace
        assert rows.first.locator("td.message").inner_text() == f"payment failed {HOSTILE}"
        assert page.locator("table.logs script, table.logs img").count() == 0
        assert page.evaluate("window.__hostile") is None
        save_screenshot(page, "router-logs-by-trace")


def test_saved_search_and_query_bar_find_the_line(
    chromium: BrowserContext, router: httpx.Client, logged_trace: str
) -> None:
    url = f"{router.base_url}/logs?search=errors-by-service&q=views-check+payment&from=now-1h"
    with page_on_host(chromium, url) as page:
        assert page.locator("select[name=search]").input_value() == "errors-by-service"
        page.locator(f"td.trace a:text-is('{logged_trace}')").click()  # the trace filter link
        page.wait_for_url(f"**trace_id={logged_trace}**")
        assert page.locator("table.logs tbody tr").count() == 1


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ("from=yesterday", "`from` must be an ISO 8601 time"),
        ("from=now&to=now-1h", "must be before `to`"),
        ("trace_id=abc", "32 hexadecimal digits"),
        ("search=nope", "There is no saved search called"),
        ("search=logs-of-one-trace", "needs a trace id"),
        ("page=0", "`page` must be a number"),
    ],
)
def test_bad_log_search_is_a_400_page_with_a_sentence(
    router: httpx.Client, query: str, sentence: str
) -> None:
    answer = router.get(f"/logs?{query}")
    assert answer.status_code == 400
    assert sentence in answer.text.replace("&#39;", "'").replace("&quot;", '"')


def test_a_hostile_query_stays_text(chromium: BrowserContext, router: httpx.Client) -> None:
    with page_on_host(chromium, f"{router.base_url}/logs?{urlencode({'q': HOSTILE})}") as page:
        assert page.locator("input[name=q]").input_value() == HOSTILE
        assert page.evaluate("window.__hostile") is None


@pytest.fixture(scope="module")
def after_load(stack: Stack) -> None:
    """A short load through the booking service, so every panel has something to draw."""
    codes = drive_load(stack.part("booking").address())
    release_customers(stack.settings)  # their ACTIVE tokens would fill the queue for 600 s
    assert codes.count(201) > 0, f"the load booked nothing: {sorted(set(codes))}"


@pytest.mark.parametrize("board", DASHBOARDS, ids=[board.uid for board in DASHBOARDS])
def test_each_dashboard_draws_its_panels(
    chromium: BrowserContext, router: httpx.Client, after_load: None, board: DashboardSpec
) -> None:
    with page_on_host(chromium, f"{router.base_url}/dashboards/{board.uid}?from=now-1h") as page:
        drawn_with_data(page, board)
        assert page.locator(".panel .js-plotly-plot").count() == len(board.panels)
        titles = page.locator(".panel h2").all_inner_texts()
        assert titles == [panel.title for panel in board.panels]
        save_screenshot(page, f"router-dashboard-{board.slug}")


def drawn_with_data(page: Page, board: DashboardSpec) -> None:
    """Every panel has drawn a line (Prometheus may take a few scrapes after the load)."""

    def all_drawn() -> bool:
        page.wait_for_selector("body[data-drawn=true]", timeout=60_000)
        if page.evaluate(DRAWN_PANELS) == len(board.panels):
            return True
        page.reload()
        return False

    eventually(
        all_drawn,
        120,
        lambda: f"{page.evaluate(DRAWN_PANELS)} of {len(board.panels)} panels drew data",
        every=5,
    )


def test_unknown_dashboard_is_a_404_page_with_a_sentence(router: httpx.Client) -> None:
    answer = router.get("/dashboards/no-such-board")
    assert answer.status_code == 404
    assert "There is no dashboard" in answer.text
    assert "soundcheck-business" in answer.text


def test_plotly_js_is_the_plotly_packages_own_file(router: httpx.Client) -> None:
    import plotly

    from router.view_pages import plotly_js

    served = router.get("/static/plotly.min.js")
    assert served.status_code == 200
    assert served.content == plotly_js().read_bytes()
    assert plotly_js().is_relative_to(plotly.__path__[0])
    assert "max-age" in served.headers["cache-control"]
