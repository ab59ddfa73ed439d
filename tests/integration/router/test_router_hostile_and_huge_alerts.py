"""Hostile and huge alerts through each notifier, against the sandbox that keeps the real limits:
URLs from alerts are validated, every field is inert markup, every message fits its target, and
"and N more" tells how much of the group Alertmanager left out."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from pagerduty.errors import HttpError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from router.links import links_for
from router.metrics import REGISTRY
from router.notifiers.email import EmailNotifier
from router.notifiers.jira import JiraNotifier
from router.notifiers.pagerduty import EventsClient, PagerDutyNotifier
from router.notifiers.slack import SlackNotifier
from router.outcome import Delivered, Job
from router.settings import RouterSettings
from sandbox.client import SandboxClient
from soundcheck.stack.parts.sandbox import SANDBOX_ROUTING_KEY
from soundcheck.stack.stack import Stack
from tests.support.notifier_routes import EMAIL_ROUTE, JIRA_ROUTE, PD_ROUTE, SLACK_ROUTE

EVIL_RUNBOOK = (
    "http://evil.example/rb\nh1. INJECTED\n{color:red}*red*{color} !http://evil.example/pixel.png!"
)
HUGE = 100 * 1024
# Jira reads these only at the start of a line: a heading, a quote.
JIRA_BLOCK_MARKUP = re.compile(r"^\s*(h[1-6]|bq)\.", re.IGNORECASE)


def alert_of(name: str, labels: dict[str, str], annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": name, "service": "booking", "priority": "P0", **labels},
        "annotations": annotations,
        "startsAt": "2026-11-24T08:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up&g0.tab=1",
    }


def job_for(
    settings: RouterSettings,
    alert: dict[str, Any],
    route: dict[str, Any],
    truncated_alerts: int = 0,
) -> Job:
    identity = uuid.uuid4().hex[:16]
    return Job(
        action="trigger",
        alert=alert,
        priority="P0",
        group_key='{}:{alertname="x"}',
        external_url="http://127.0.0.1:9093",
        route=route,
        identity=identity,
        delivery_key=f"{identity}-trigger",
        ref=None,
        interrupted=False,
        links=links_for(settings, alert, "http://127.0.0.1:9093"),
        truncated_alerts=truncated_alerts,
    )


def events_client(sandbox: SandboxClient) -> EventsClient:
    client = EventsClient(SANDBOX_ROUTING_KEY, base_url=sandbox.url)
    client.retry = {}
    client.max_network_attempts = 0
    return client


def rejected_urls(field: str) -> float:
    return REGISTRY.get_sample_value("router_alert_urls_rejected_total", {"field": field}) or 0.0


def text_objects(value: Any) -> list[dict[str, Any]]:
    """Every Block Kit text object in a message's blocks: texts, fields, elements, headers."""
    if isinstance(value, list):
        return [found for item in value for found in text_objects(item)]
    if not isinstance(value, dict):
        return []
    own = [value] if value.get("type") in ("plain_text", "mrkdwn") and "text" in value else []
    return own + [found for item in value.values() for found in text_objects(item)]


def last_post(sandbox: SandboxClient, mentioning: str) -> dict[str, Any]:
    posts = [e for e in sandbox.received("slack", mentioning) if e["kind"] == "chat.postMessage"]
    assert posts, f"no Slack post mentions {mentioning}"
    body: dict[str, Any] = posts[0]["body"]
    return body


def test_hostile_runbook_url_is_left_out_counted_and_jira_fields_are_inert(
    sandbox: SandboxClient, router_settings: RouterSettings
) -> None:
    name = f"Hostile{uuid.uuid4().hex[:6]}"
    alert = alert_of(
        name,
        {"instance": "db-1\nh1. LABEL INJECTED", "note": "x|y\n||a||b||"},
        {
            "summary": "h1. SUMMARY INJECTED",
            "description": "first line\nbq. QUOTE INJECTED\nh2. HEADING INJECTED",
            "runbook_url": EVIL_RUNBOOK,
            "dashboard_url": "javascript:alert(1)",
        },
    )
    before = rejected_urls("runbook_url"), rejected_urls("dashboard_url")
    pagerduty = job_for(router_settings, alert, PD_ROUTE)
    assert (rejected_urls("runbook_url"), rejected_urls("dashboard_url")) == (
        before[0] + 1,
        before[1] + 1,
    )
    assert all(
        "evil.example" not in href and "javascript" not in href for href in pagerduty.links.values()
    )
    assert isinstance(PagerDutyNotifier(router_settings).deliver(pagerduty), Delivered)
    assert isinstance(
        SlackNotifier(router_settings, graph=lambda a: None).deliver(
            job_for(router_settings, alert, SLACK_ROUTE)
        ),
        Delivered,
    )
    assert isinstance(
        JiraNotifier(router_settings, graph=lambda a: None).deliver(
            job_for(router_settings, alert, JIRA_ROUTE)
        ),
        Delivered,
    )

    [page] = [e for e in sandbox.received("pagerduty", name) if e["kind"] == "trigger"]
    assert "evil.example" not in str(page["body"]["links"])
    post = last_post(sandbox, name)
    buttons = [e for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons, "the valid links are still buttons"
    assert all("evil.example" not in button["url"] for button in buttons)
    [ticket] = sandbox.jira_issues(name)
    description = ticket["description"]
    assert "evil.example" not in description
    markup = [line for line in description.splitlines() if JIRA_BLOCK_MARKUP.match(line)]
    assert [line for line in markup if "INJECTED" in line] == [], description
    rows = [line for line in description.splitlines() if re.match(r"\|[^|]", line)]
    assert len(rows) == len(alert["labels"]), "one table row per label, newlines or not"
    for row in rows:  # two cells: three unescaped pipes
        assert len(re.findall(r"(?<!\\)\|", row)) == 3, row


def test_shown_label_with_slack_markup_is_inert_in_every_block(
    sandbox: SandboxClient, router_settings: RouterSettings
) -> None:
    name = f"SlackMarkup{uuid.uuid4().hex[:6]}"
    hostile = "<!channel> *x* <http://evil.example|click>"
    alert = alert_of(name, {"instance": hostile, "job": hostile}, {"summary": f"s {hostile}"})
    notifier = SlackNotifier(router_settings, graph=lambda a: None)
    assert isinstance(notifier.deliver(job_for(router_settings, alert, SLACK_ROUTE)), Delivered)
    post = last_post(sandbox, name)
    texts = text_objects(post["blocks"])
    assert any(t["type"] == "plain_text" and hostile in t["text"] for t in texts), (
        "the instance label is shown (as typed)"
    )
    for text in texts:
        if text["type"] == "mrkdwn":
            assert "<!" not in text["text"], text
            assert "*x*" not in text["text"], text
    fields = [f for b in post["blocks"] for f in b.get("fields", [])]
    assert fields, "the instance and job labels are fields"
    assert all(f["type"] == "plain_text" for f in fields)
    assert "<!channel>" not in post["text"]
    assert "<http" not in post["text"]


def huge_alert(name: str) -> dict[str, Any]:
    return alert_of(
        name,
        {"instance": "i" * HUGE, "pod": "p" * HUGE, "detail": "d" * HUGE},
        {"summary": "s" * HUGE, "description": "d" * HUGE},
    )


def test_alert_with_100_kb_labels_is_paged_posted_ticketed_and_mailed(
    sandbox: SandboxClient, router_settings: RouterSettings
) -> None:
    name = f"HugeLabels{uuid.uuid4().hex[:6]}"
    alert = huge_alert(name)
    notifiers = {
        "pagerduty": (PagerDutyNotifier(router_settings), PD_ROUTE),
        "slack": (SlackNotifier(router_settings, graph=lambda a: None), SLACK_ROUTE),
        "jira": (JiraNotifier(router_settings, graph=lambda a: None), JIRA_ROUTE),
        "email": (EmailNotifier(router_settings), EMAIL_ROUTE),
    }
    for target, (notifier, route) in notifiers.items():
        outcome = notifier.deliver(job_for(router_settings, alert, route))
        assert isinstance(outcome, Delivered), f"{target}: {outcome}"
    [page] = [e for e in sandbox.received("pagerduty", name) if e["kind"] == "trigger"]
    assert len(page["body"]["payload"]["summary"]) <= 1024
    assert {link["text"] for link in page["body"]["links"]} >= {"incident", "silence"}
    assert [e for e in sandbox.received("slack") if e["kind"] == "rejected"] == []
    [ticket] = sandbox.jira_issues(name)
    assert len(ticket["summary"]) <= 255
    assert len(ticket["description"]) <= 32_767
    assert "[silence|" in ticket["description"], "the links come before the long label table"
    [mail] = sandbox.received("email", name)
    assert name in mail["body"]["subject"]


def test_each_target_says_how_many_alerts_alertmanager_left_out(
    sandbox: SandboxClient, router_settings: RouterSettings
) -> None:
    name = f"Truncated{uuid.uuid4().hex[:6]}"
    alert = alert_of(name, {"instance": "db-1"}, {"summary": "the group is big"})
    PagerDutyNotifier(router_settings).deliver(
        job_for(router_settings, alert, PD_ROUTE, truncated_alerts=30)
    )
    SlackNotifier(router_settings, graph=lambda a: None).deliver(
        job_for(router_settings, alert, SLACK_ROUTE, truncated_alerts=30)
    )
    JiraNotifier(router_settings, graph=lambda a: None).deliver(
        job_for(router_settings, alert, JIRA_ROUTE, truncated_alerts=30)
    )
    EmailNotifier(router_settings).deliver(
        job_for(router_settings, alert, EMAIL_ROUTE, truncated_alerts=30)
    )
    [page] = [e for e in sandbox.received("pagerduty", name) if e["kind"] == "trigger"]
    assert page["body"]["payload"]["summary"].endswith("(and 30 more)")
    assert "and 30 more" in str(last_post(sandbox, name)["blocks"])
    [ticket] = sandbox.jira_issues(name)
    assert "and 30 more" in ticket["description"]
    [mail] = sandbox.received("email", name)
    assert "and 30 more" in mail["body"]["plain"]
    assert "(and 30 more)" in mail["body"]["subject"]


def test_alert_without_runbook_url_links_only_a_runbook_the_router_serves(
    router_settings: RouterSettings, router_parts: Stack
) -> None:
    unknown = alert_of(f"NoRunbook{uuid.uuid4().hex[:6]}", {}, {"summary": "s"})
    assert "runbook" not in links_for(router_settings, unknown, "http://127.0.0.1:9093")
    known = alert_of("RedisDown", {}, {"summary": "s"})
    link = links_for(router_settings, known, "http://127.0.0.1:9093")["runbook"]
    assert link.endswith("/runbooks/RedisDown")
    served = router_parts.part("router").address() + "/runbooks/RedisDown"
    assert httpx.get(served, timeout=10).status_code == 200


def test_sandbox_refuses_what_the_real_services_refuse(sandbox: SandboxClient) -> None:
    with pytest.raises(HttpError) as refused:
        events_client(sandbox).trigger(
            "big", "src", dedup_key="big-1", custom_details={"x": "y" * 600 * 1024}
        )
    assert refused.value.response.status_code == 400
    assert "512 KB" in refused.value.response.text
    slack = WebClient(token="xoxb-test", base_url=f"{sandbox.url}/slack/api/")
    for blocks in (
        [{"type": "section", "text": {"type": "plain_text", "text": "t" * 3001}}],
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        [{"type": "section", "fields": [{"type": "plain_text", "text": "f"}] * 11}],
        [{"type": "section", "text": {"type": "plain_text", "text": "x"}}] * 51,
    ):
        with pytest.raises(SlackApiError) as slack_refused:
            slack.chat_postMessage(channel="#limits", text="x", blocks=blocks)
        assert slack_refused.value.response["error"] == "invalid_blocks"
    answer = httpx.post(
        f"{sandbox.url}/jira/rest/api/2/issue",
        auth=("u", "p"),
        json={
            "fields": {
                "project": {"key": "OPS"},
                "issuetype": {"name": "Bug"},
                "summary": "s",
                "description": "d" * 32_768,
            }
        },
    )
    assert answer.status_code == 400
    assert "32,767" in answer.json()["errors"]["description"]
