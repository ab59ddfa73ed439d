"""The sandbox page in headless Chromium: an alert with hostile labels paged through the stack's
router (the real PagerDuty, Slack, Jira and SMTP clients) and then resolved, with a PagerDuty
acknowledge between, shows as a person sees it in each tool: the Slack message with its fields,
buttons, graph in the thread and the edit on resolve; the PagerDuty incident's timeline; the Jira
ticket's description table, graph, comment and transitions; the e-mail's HTML part. The
alert's `<script>` stays text everywhere, and the raw JSON is one click away."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page

from router.notifiers.pagerduty import EventsClient
from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.sandbox import SANDBOX_ROUTING_KEY
from soundcheck.stack.stack import Stack
from tests.support.browser import page_on_host, save_screenshot
from tests.support.polling import eventually

HOSTILE = '<script>window.__hostile = 1</script><img src=x onerror="window.__hostile = 2">'


def webhook(name: str, status: str, started: str) -> dict[str, Any]:
    alert = {
        "status": status,
        "labels": {"alertname": name, "priority": "P1", "service": "booking", "instance": HOSTILE},
        "annotations": {"summary": f"Payments failing {HOSTILE}", "description": "5% fail"},
        "startsAt": started,
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up&g0.tab=1",
        "fingerprint": uuid.uuid4().hex[:16] if status == "firing" else "",
    }
    if status == "resolved":
        alert["endsAt"] = datetime.now(UTC).isoformat()
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "status": status,
        "receiver": "router",
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [alert],
    }


def delivered(sandbox: SandboxClient, name: str, resolved: bool) -> bool:
    state = sandbox.state()
    messages = [m for ms in state["slack"].values() for m in ms if name in str(m["blocks"])]
    issues = [i for i in state["jira"] if name in i["summary"]]
    incidents = [i for i in state["pagerduty"] if name in i["summary"]]
    mails = sandbox.received("email", mentioning=name)
    graphed = any(f for m in messages for r in m["replies"] for f in r.get("files") or [])
    done = bool(issues and issues[0]["attachments"] and messages and graphed and incidents)
    if resolved:
        return done and len(mails) == 2 and incidents[0]["status"] == "resolved"
    return done and len(mails) == 1


@pytest.fixture(scope="module")
def paged(stack: Stack, settings: StackSettings) -> str:
    """An alert's name, paged, acknowledged in PagerDuty, then resolved."""
    sandbox = SandboxClient(stack.part("sandbox").address())
    sandbox.reset()
    name = f"SandboxPage{uuid.uuid4().hex[:6]}"
    token = (settings.home / "router" / "token").read_text().strip()
    router = httpx.Client(
        base_url=stack.part("router").address(),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    firing = webhook(name, "firing", datetime.now(UTC).isoformat())
    router.post("/alerts", json=firing).raise_for_status()
    eventually(lambda: delivered(sandbox, name, False), 120, "paged in every tool")
    [incident] = sandbox.incidents(mentioning=name)
    pagerduty = EventsClient(SANDBOX_ROUTING_KEY, base_url=sandbox.url)
    pagerduty.acknowledge(incident["dedup_key"])
    firing["status"] = firing["alerts"][0]["status"] = "resolved"
    firing["alerts"][0]["endsAt"] = datetime.now(UTC).isoformat()
    router.post("/alerts", json=firing).raise_for_status()
    eventually(lambda: delivered(sandbox, name, True), 120, "resolved in every tool")
    return name


def image_drawn(image: Locator) -> bool:
    return bool(image.evaluate("img => img.complete && img.naturalWidth > 100"))


def check_slack(page: Page, name: str) -> None:
    message = page.locator("#slack .s-channel").filter(has_text=name).first
    assert f"RESOLVED P1 {name}" in message.locator(".s-header").first.inner_text()
    fields = message.locator(".s-fields").first.inner_text()
    assert f"instance: {HOSTILE}" in fields
    buttons = message.locator(".s-actions .s-button").all_inner_texts()
    assert "Open incident" in buttons, buttons
    assert "Acknowledge" not in buttons, buttons  # the actions leave a resolved message
    assert "Silence" not in buttons, buttons
    assert "Logs" in buttons, buttons  # the links stay
    assert "(edited" in message.locator(".s-meta").first.inner_text()
    assert image_drawn(message.locator(".s-thread img").first)


def check_pagerduty(page: Page, name: str) -> None:
    incident = page.locator("#pagerduty .pd-incident").filter(has_text=name)
    assert incident.locator(".pd-status").inner_text().lower() == "resolved"
    assert incident.locator(".pd-since").inner_text().startswith("Resolved at ")
    moments = [
        t.split("·")[-1].strip() for t in incident.locator(".pd-timeline li").all_inner_texts()
    ]
    assert moments == ["triggered", "acknowledged", "resolved"]


def check_jira(page: Page, name: str) -> None:
    issue = page.locator("#jira .j-issue").filter(has_text=name)
    assert issue.locator(".j-status").inner_text().lower() == "done"
    rows = issue.locator(".j-description table tr").all_inner_texts()
    assert any(HOSTILE in row for row in rows), rows
    assert issue.locator(".j-description a").count() >= 1
    assert "Resolved at" in issue.locator(".j-comment").last.inner_text()
    assert "Done" in issue.locator(".j-transitions").inner_text()
    assert image_drawn(issue.locator(".j-attachments img").first)


def check_email(page: Page, name: str) -> None:
    mail = page.locator("#email .m-mail").filter(has_text=f"RESOLVED {name}")
    assert mail.locator("iframe.m-html").get_attribute("sandbox") == ""
    body = mail.frame_locator("iframe.m-html").locator("body").inner_text()
    assert HOSTILE in body
    assert name in body


def test_sandbox_page_shows_each_tool_as_a_person_sees_it(
    chromium: BrowserContext, stack: Stack, paged: str
) -> None:
    with page_on_host(chromium, f"{stack.part('sandbox').address()}/_sandbox") as page:
        check_slack(page, paged)
        check_pagerduty(page, paged)
        check_jira(page, paged)
        check_email(page, paged)
        assert page.evaluate("window.__hostile") is None
        assert page.evaluate("document.scripts.length") == 0
        raw = page.locator("#jira .j-issue").filter(has_text=paged).locator("details.raw")
        raw.locator("summary").click()
        assert f'"summary": "[P1] {paged}' in raw.locator("pre").inner_text()
        raw.locator("summary").click()
        # A viewport as tall as the page: headless Chromium paints iframes only inside it
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": 1400, "height": height})
        save_screenshot(page, "sandbox-page")  # docs/images/sandbox-page.png is one of these
