"""An on-call engineer's path in headless Chromium: a real alert through a real Alertmanager and
the router, the Slack message's "Open incident" link, the incident page with its graph, an
evidence line carrying a trace id and a timeline linking the Slack message and the PagerDuty
incident (places on the sandbox page, from chat.getPermalink and the REST API), then Silence
(Alertmanager suppresses the alert) and Acknowledge (PagerDuty gets `acknowledge`, a re-fire
pages nobody). A label holding `<script>` stays text all along."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import BrowserContext, Dialog, Page

from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.browser import save_screenshot
from tests.support.harness import AlertmanagerProcess, RouterProcess
from tests.support.incident_console import log_in, slack_incident_links
from tests.support.polling import eventually
from tests.support.router_alerts import am_alert, post_webhook, webhook_body

SCRIPT_LABEL = "<script>alert('owned')</script>"
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
EXPRESSION = 'up{job="router"} > 0'  # drawn with the series it compares, up{job="router"}


@pytest.fixture
def store_busy_timeout() -> str:
    """The locked store answers 503 after 2 s, not the default 15 s (its writers queue on the
    router's own writer gate, so only this test's outside writer ever meets the timeout)."""
    return "2"


def router_failed_a_request(router: RouterProcess, router_home: Path, token: str) -> None:
    """A real failure with a trace: the router's store is locked by another writer, so a webhook
    cannot be stored and is answered 503, which the router logs at ERROR with its trace id
    (shipped through the pipeline to Elasticsearch)."""
    with sqlite3.connect(router_home / "router.db", isolation_level=None) as other_writer:
        other_writer.execute("BEGIN EXCLUSIVE")
        try:
            answer = httpx.post(
                f"{router.url}/alerts",
                json=webhook_body("StoreLockedProbe"),
                headers={"Authorization": f"Bearer {token}"},
                timeout=120,
            )
        finally:
            other_writer.execute("ROLLBACK")
    assert answer.status_code == 503, answer.text


def error_logged(settings: StackSettings) -> bool:
    answer = httpx.post(
        f"http://{settings.host}:{settings.elasticsearch_port}/logs-*/_search",
        json={
            "query": {
                "bool": {
                    "filter": [
                        {"term": {"service.name": "router"}},
                        {"terms": {"log.level": ["ERROR", "error"]}},
                        {"exists": {"field": "trace.id"}},
                        {"range": {"@timestamp": {"gte": "now-5m"}}},
                    ]
                }
            }
        },
        timeout=10,
    )
    return bool(answer.status_code == 200 and answer.json()["hits"]["hits"])


def pagerduty_events(sandbox: SandboxClient, action: str) -> list[dict[str, Any]]:
    """The sandbox is reset for each test: every event is this test's."""
    return [e for e in sandbox.received("pagerduty") if e["body"].get("event_action") == action]


def landed_on_the_sandbox_page(page: Page, sandbox: SandboxClient) -> set[str]:
    """The tools whose item the incident timeline links on the sandbox page (page reloaded: a
    delivery may finish after the page was drawn)."""
    page.reload()
    hrefs = page.eval_on_selector_all("#timeline a", "links => links.map(a => a.href)")
    items = f"{sandbox.url}/_sandbox#"
    return {h.removeprefix(items).split("-")[0] for h in hrefs if h.startswith(items)}


def silenced_by(alertmanager: AlertmanagerProcess) -> list[str]:
    alerts = httpx.get(f"{alertmanager.url}/api/v2/alerts", timeout=10).json()
    return [
        silence
        for alert in alerts
        if alert["labels"].get("alertname") == "IncidentPageTest"
        for silence in alert["status"]["silencedBy"]
    ]


def test_the_slack_link_opens_the_incident_page_whose_actions_silence_and_acknowledge(
    settings: StackSettings,
    evidence_parts: Stack,
    router: RouterProcess,
    router_home: Path,
    alertmanager: AlertmanagerProcess,
    sandbox: SandboxClient,
    token: str,
    chromium: BrowserContext,
) -> None:
    router_failed_a_request(router, router_home, token)
    eventually(lambda: error_logged(settings), 60, "the router's error line in Elasticsearch")
    alert = am_alert("IncidentPageTest", "P0", evil=SCRIPT_LABEL, service="router")
    alert["generatorURL"] = (
        f"http://{settings.host}:{settings.prometheus_port}/graph?g0.expr="
        f"{quote(EXPRESSION)}&g0.tab=1"
    )
    alertmanager.post_alerts([alert])
    link = eventually(
        lambda: next(iter(slack_incident_links(sandbox, "IncidentPageTest")), None),
        60,
        "the Slack message's incident button",
    )
    assert link.startswith(f"{router.url}/incidents/")

    dialogs: list[str] = []

    def record_dialog(dialog: Dialog) -> None:  # a script that ran would open one
        dialogs.append(dialog.message)
        dialog.dismiss()

    page = chromium.new_page()
    page.on("dialog", record_dialog)
    page.goto(link)
    assert page.locator("#alertname").inner_text() == "IncidentPageTest"
    graph_width = page.eval_on_selector("#graph", "img => img.complete && img.naturalWidth")
    assert graph_width, "the graph of the alert's expression is drawn"
    assert page.locator("#graph + p").inner_text() == EXPRESSION
    beside = page.locator("#graph-compared").inner_text()
    assert 'up{job="router"} (against > 0)' in beside, "the series it compares drawn beside"
    trace_ids = page.locator("#evidence a.trace-id").all_inner_texts()
    assert trace_ids, "at least one evidence line with its trace id"
    assert TRACE_ID.match(trace_ids[0])
    assert SCRIPT_LABEL in page.locator("#labels").inner_text(), "the label shows as text"
    eventually(
        lambda: {"slack", "pagerduty"} <= landed_on_the_sandbox_page(page, sandbox),
        60,
        "the timeline linking the Slack message and the PagerDuty incident",
    )
    print(f"incident page: {save_screenshot(page, 'incident-page')}")

    page.click("#silence")
    log_in(page)
    page.click("button[value='1h']")
    assert "Silenced." in page.locator(".notice").inner_text()
    silences = httpx.get(f"{alertmanager.url}/api/v2/silences", timeout=10).json()
    active = [s for s in silences if s["status"]["state"] == "active"]
    assert {"name": "evil", "value": SCRIPT_LABEL, "isRegex": False, "isEqual": True} in (
        active[0]["matchers"]
    )
    eventually(lambda: silenced_by(alertmanager), 30, "Alertmanager suppressing the alert")

    page.click("#acknowledge")
    page.click("button[value='acknowledge']")
    assert "Acknowledged." in page.locator(".notice").inner_text()
    eventually(
        lambda: pagerduty_events(sandbox, "acknowledge"), 60, "PagerDuty's acknowledge event"
    )
    assert "acknowledged by oncall" in page.locator("#timeline").inner_text()

    triggers = len(pagerduty_events(sandbox, "trigger"))
    fingerprint = next(
        a["fingerprint"]
        for a in httpx.get(f"{alertmanager.url}/api/v2/alerts", timeout=10).json()
        if a["labels"]["alertname"] == "IncidentPageTest"
    )
    # It flapped: the same alert (fingerprint) with a new start, as Alertmanager would send it.
    refire = {**alert, "fingerprint": fingerprint, "startsAt": datetime.now(UTC).isoformat()}
    assert post_webhook(router, token, "IncidentPageTest", [refire]).status_code == 200
    held = eventually(lambda: held_refires(router), 30, "the router holding the re-fire")
    assert held >= 1
    assert len(pagerduty_events(sandbox, "trigger")) == triggers, "a re-fire paged again"
    assert not dialogs, f"a script ran: {dialogs}"


def held_refires(router: RouterProcess) -> float:
    for line in httpx.get(f"{router.url}/metrics", timeout=10).text.splitlines():
        if line.startswith("router_refires_held_total "):
            return float(line.split()[1])
    return 0.0
