"""`soundcheck demo`'s job on the real stack: a short token-spike opening with its report, then the
redis-down drill: degraded mode books on, RedisDown pages with the runbook, nothing lost. Then
the on-call engineer's click: the real RedisDown (Prometheus's rule, Alertmanager, the router)
has a Slack message whose incident link opens, in Chromium, a page with the graph of the rule's
expression and evidence lines carrying trace ids (the booking service's degraded-mode warnings)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from playwright.sync_api import BrowserContext, Page
from rich.console import Console

from sandbox.client import SandboxClient
from soundcheck.demo import run_demo
from soundcheck.stack.part import State
from soundcheck.stack.stack import Stack
from tests.support.browser import save_screenshot
from tests.support.incident_console import slack_incident_links
from tests.support.polling import eventually

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


def evidence_trace_ids(page: Page) -> list[str]:
    """The evidence lines' trace ids, the page reloaded (log lines reach Elasticsearch through
    the pipeline a few seconds after they are written)."""
    page.reload()
    return [t for t in page.locator("#evidence a.trace-id").all_inner_texts() if TRACE_ID.match(t)]


def test_demo_opens_books_through_redis_down_and_pages_with_the_runbook(
    stack: Stack, chromium: BrowserContext
) -> None:
    out = io.StringIO()
    found = run_demo(stack, Console(file=out, width=200), scale=0.05, users=0.01)
    said = out.getvalue()
    assert found.passed, said
    assert found.opening["client"]["all_requests"] > 0
    assert (Path(found.opening["run"]["folder"]) / "report.html").exists()
    assert (Path(found.drill["folder"]) / "report.html").exists()
    assert found.drill["loss"]["seats_sold_twice"] == 0
    assert found.drill["traffic"]["inside"]["requests"] > 0  # booked while Redis was down
    page = found.page
    assert page is not None, said
    links = page["links"]
    assert links["runbook"] == f"{stack.part('router').address()}/runbooks/RedisDown"
    incident = links["incident"]
    assert incident.startswith(f"{stack.part('router').address()}/incidents/")
    assert links["silence"] == f"{incident}/silence"  # the router's confirmation page
    assert links["source"].startswith(f"{stack.part('prometheus').address()}/graph")
    assert stack.status(["redis"])[0].state is State.RUNNING  # the drill puts Redis back
    assert "ok drill: no double booking" in said

    sandbox = SandboxClient(stack.part("sandbox").address())
    assert incident in slack_incident_links(sandbox, "RedisDown"), "Slack links the same incident"
    tab = chromium.new_page()
    tab.goto(incident)
    assert tab.locator("#alertname").inner_text() == "RedisDown"
    assert "redis_up" in tab.locator("#graph + p").inner_text(), "the rule's own expression"
    graph_width = tab.eval_on_selector("#graph", "img => img.complete && img.naturalWidth")
    assert graph_width, "the graph of RedisDown's expression is drawn"
    beside = tab.locator("#graph-compared").inner_text()
    assert 'redis_up{job="redis"} (against == 0)' in beside, "redis_up drawn: its fall, recovery"
    trace_ids = eventually(lambda: evidence_trace_ids(tab), 60, "evidence with a trace id")
    assert trace_ids
    print(f"incident page: {save_screenshot(tab, 'incident-page-redis-down')}")
