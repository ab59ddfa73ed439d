"""Each notifier against the sandbox: what it sends, and what it says when the target fails."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from router.graph import render_graph
from router.links import links_for
from router.notifiers.email import EmailNotifier
from router.notifiers.jira import JiraNotifier
from router.notifiers.pagerduty import PagerDutyNotifier
from router.notifiers.slack import SlackNotifier
from router.outcome import Delivered, GiveUp, Job, RetryLater
from router.settings import RouterSettings
from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings
from tests.support.notifier_routes import JIRA_ROUTE, PD_ROUTE

ALERTNAME = f"NotifierCheck{uuid.uuid4().hex[:6]}"  # this module's traffic in the shared sandbox
HOSTILE = '<!channel> *bold* {code}[x|http://evil]{code} " OR project = "SECRET'


def job(
    action: str = "trigger",
    fingerprint: str = "fp1",
    route: dict[str, Any] | None = None,
    ref: dict[str, Any] | None = None,
    starts: str = "2026-11-24T08:00:00Z",
    **labels: str,
) -> Job:
    alert = {
        "status": "firing" if action == "trigger" else "resolved",
        "labels": {"alertname": ALERTNAME, "service": "booking", **labels},
        "annotations": {"summary": f"Redis is down {labels.get('note', '')}"},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z" if action == "trigger" else datetime.now(UTC).isoformat(),
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up&g0.tab=1",
    }
    return Job(
        action=action,
        alert=alert,
        priority="P0",
        group_key="{}:{}",
        external_url="http://am:9093",
        route=route or {},
        identity=fingerprint,
        delivery_key=f"{fingerprint}-{action}-{starts}",
        ref=ref,
        interrupted=False,
        links={"runbook": "http://router/runbooks/RedisDown"},
    )


def test_pagerduty_outcomes(sandbox: SandboxClient, router_settings: RouterSettings) -> None:
    notifier = PagerDutyNotifier(router_settings)
    assert isinstance(notifier.deliver(job(route=PD_ROUTE)), Delivered)
    assert isinstance(notifier.deliver(job("resolve", route=PD_ROUTE)), Delivered)
    [incident] = sandbox.incidents("soundcheck-fp1")
    assert incident["status"] == "resolved"
    assert incident["severity"] == "critical"
    sandbox.fault("pagerduty", kind="error", status=500)
    assert isinstance(notifier.deliver(job(route=PD_ROUTE)), RetryLater)
    sandbox.fault("pagerduty", kind="429", retry_after=4)
    assert notifier.deliver(job(route=PD_ROUTE)) == RetryLater("PagerDuty rate limit (429)", 4.0)
    sandbox.clear_fault("pagerduty")
    assert isinstance(notifier.deliver(job(route={**PD_ROUTE, "severity": "fatal"})), GiveUp)


def test_slack_fire_refire_resolve(sandbox: SandboxClient, router_settings: RouterSettings) -> None:
    notifier = SlackNotifier(router_settings, graph=lambda alert: b"\x89PNG\r\n\x1a\nfake")
    route = {"channel": "#alerts-critical"}
    first = notifier.deliver(job(route=route, note=HOSTILE))
    assert isinstance(first, Delivered)
    assert first.ref
    again = notifier.deliver(job(route=route, ref=first.ref, starts="2026-11-24T09:00:00Z"))
    assert isinstance(again, Delivered)
    assert isinstance(notifier.deliver(job("resolve", route=route, ref=first.ref)), Delivered)
    [message] = sandbox.slack_messages("alerts-critical", ALERTNAME)
    assert message["text"].startswith("RESOLVED")
    posts = sandbox.received("slack", ALERTNAME)
    post = [e for e in posts if e["kind"] == "chat.postMessage"][-1]["body"]
    assert "<!channel>" not in post["text"]
    assert "&lt;!channel&gt;" in post["text"]
    assert all(b["text"]["type"] == "plain_text" for b in post["blocks"] if "text" in b)
    replies = message["replies"]
    assert any(r.get("files") for r in replies), "the graph is uploaded into the thread"
    assert any(r.get("text", "").startswith("FIRING AGAIN") for r in replies)


def test_slack_refire_whose_first_post_is_gone_posts_anew(
    sandbox: SandboxClient, router_settings: RouterSettings
) -> None:
    notifier = SlackNotifier(router_settings, graph=lambda alert: None)
    route = {"channel": "#alerts-low"}
    first = notifier.deliver(job(fingerprint="gone", route=route, note="first"))
    assert isinstance(first, Delivered)
    assert first.ref
    deleted = {**first.ref, "ts": "1000000000.000001"}  # a post deleted in Slack since
    again = notifier.deliver(
        job(fingerprint="gone", route=route, ref=deleted, starts="2026-11-24T10:00:00Z")
    )
    assert isinstance(again, Delivered), again
    assert again.ref
    assert again.ref["ts"] not in (deleted["ts"], first.ref["ts"])
    messages = sandbox.slack_messages("alerts-low", ALERTNAME)
    assert [m["ts"] for m in messages if m["ts"] == again.ref["ts"]], "a new top-level post"


def test_slack_interrupted_post_is_found_not_reposted(
    sandbox: SandboxClient, router_settings: RouterSettings
) -> None:
    notifier = SlackNotifier(router_settings, graph=lambda alert: None)
    route = {"channel": "#alerts-high"}
    assert isinstance(notifier.deliver(job(route=route)), Delivered)
    retried = job(route=route)
    retried = Job(**{**retried.__dict__, "interrupted": True})
    outcome = notifier.deliver(retried)
    assert isinstance(outcome, Delivered)
    assert "interrupted" in outcome.note
    assert len(sandbox.slack_messages("alerts-high", ALERTNAME)) == 1


def test_slack_interrupted_thread_reply_is_not_repeated(
    sandbox: SandboxClient, router_settings: RouterSettings
) -> None:
    notifier = SlackNotifier(router_settings, graph=lambda alert: None)
    route = {"channel": "#alerts-high"}
    first = notifier.deliver(job(route=route))
    assert isinstance(first, Delivered)
    refire = job(route=route, ref=first.ref, starts="2026-11-24T09:00:00Z")
    assert isinstance(notifier.deliver(refire), Delivered)
    again = notifier.deliver(Job(**{**refire.__dict__, "interrupted": True}))
    assert isinstance(again, Delivered)
    [message] = sandbox.slack_messages("alerts-high", ALERTNAME)
    assert len(message["replies"]) == 1


def test_slack_outcomes_on_failure(sandbox: SandboxClient, router_settings: RouterSettings) -> None:
    notifier = SlackNotifier(router_settings, graph=lambda alert: None)
    sandbox.fault("slack", kind="429", retry_after=2)
    assert notifier.deliver(job(route={"channel": "#alerts-high"})) == RetryLater(
        "Slack rate limit (429)", 2.0
    )
    sandbox.clear_fault("slack")
    gone = notifier.deliver(
        job("resolve", route={"channel": "#alerts-high"}, ref={"channel": "CNOPE", "ts": "1.1"})
    )
    assert isinstance(gone, GiveUp)
    assert "channel_not_found" in gone.why


def test_jira_create_comment_resolve_reopen_and_new_after_window(
    sandbox: SandboxClient, router_settings: RouterSettings
) -> None:
    notifier = JiraNotifier(router_settings, graph=lambda alert: b"\x89PNG\r\n\x1a\nfake")
    created = notifier.deliver(job(route=JIRA_ROUTE, note=HOSTILE))
    assert isinstance(created, Delivered)
    assert created.note == "created"
    assert notifier.deliver(job(route=JIRA_ROUTE)).note == "ticket of this episode exists"  # type: ignore[union-attr]
    assert (
        notifier.deliver(job(route=JIRA_ROUTE, starts="2026-11-24T08:30:00Z")).note == "commented"
    )  # type: ignore[union-attr]
    assert notifier.deliver(job("resolve", route=JIRA_ROUTE)).note == "resolved"  # type: ignore[union-attr]
    assert notifier.deliver(job(route=JIRA_ROUTE, starts="2026-11-24T09:00:00Z")).note == "reopened"  # type: ignore[union-attr]
    assert notifier.deliver(job("resolve", route=JIRA_ROUTE)).note == "resolved"  # type: ignore[union-attr]
    no_window = {**JIRA_ROUTE, "reopen_window_seconds": 0.0}
    assert notifier.deliver(job(route=no_window, starts="2026-11-24T10:00:00Z")).note == "created"  # type: ignore[union-attr]
    first, second = sorted(
        sandbox.jira_issues(ALERTNAME), key=lambda i: int(i["key"].split("-")[1])
    )
    assert first["transitions"] == ["Done", "Open", "Done"]
    [attachment] = first["attachments"]
    assert attachment["filename"] == f"{ALERTNAME}.png"
    assert attachment["png"] is True
    assert attachment["id"]  # the sandbox page addresses the image by it
    assert len(first["summary"]) <= 255
    assert first["priority"] == "Highest"
    assert "\\{code\\}" in first["description"]
    assert "{code}" not in first["description"].replace("\\{code\\}", "")
    assert second["status"] == "Open"
    for query in (e["body"]["jql"] for e in sandbox.received("jira") if e["kind"] == "search"):
        assert "SECRET" not in query


def test_jira_cloud_search_endpoint(
    sandbox: SandboxClient, router_settings: RouterSettings
) -> None:
    sandbox.jira_deployment("Cloud")
    notifier = JiraNotifier(router_settings, graph=lambda alert: None)
    assert notifier.deliver(job(route=JIRA_ROUTE)).note == "created"  # type: ignore[union-attr]
    assert notifier.deliver(job("resolve", route=JIRA_ROUTE)).note == "resolved"  # type: ignore[union-attr]
    kinds = {e["kind"] for e in sandbox.received("jira")}
    assert "search/jql" in kinds
    assert "search" not in kinds


def test_jira_outcomes_on_failure(sandbox: SandboxClient, router_settings: RouterSettings) -> None:
    notifier = JiraNotifier(router_settings, graph=lambda alert: None)
    sandbox.fault("jira", kind="error", status=503)
    assert isinstance(notifier.deliver(job(route=JIRA_ROUTE)), RetryLater)
    sandbox.clear_fault("jira")
    bad = notifier.deliver(job(route={**JIRA_ROUTE, "priority": "Apocalyptic"}))
    assert isinstance(bad, GiveUp)
    assert "Priority name" in bad.why


def test_email_plain_and_html(sandbox: SandboxClient, router_settings: RouterSettings) -> None:
    notifier = EmailNotifier(router_settings)
    assert isinstance(
        notifier.deliver(job(route={"to": ["oncall@x.example"]}, note="<b>x</b>")), Delivered
    )
    [mail] = sandbox.received("email", ALERTNAME)
    assert mail["body"]["to"] == ["oncall@x.example"]
    assert ALERTNAME in mail["body"]["subject"]
    assert "&lt;b&gt;x&lt;/b&gt;" in mail["body"]["html"]
    assert "<b>x</b>" in mail["body"]["plain"]
    sandbox.fault("email", kind="429")
    assert isinstance(notifier.deliver(job(route={"to": ["oncall@x.example"]})), RetryLater)


def test_graph_of_the_expression_from_real_prometheus(
    router_settings: RouterSettings, settings: StackSettings
) -> None:
    alert = job().alert
    alert["generatorURL"] = (
        f"http://{settings.host}:{settings.prometheus_port}/graph?g0.expr=up&g0.tab=1"
    )
    png = render_graph(router_settings, alert)
    assert png is not None
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_links_carry_incident_runbook_logs_silence(router_settings: RouterSettings) -> None:
    alert = job().alert
    alert["labels"]["alertname"] = "RedisDown"  # only a runbook the router serves is linked
    links = links_for(router_settings, alert, "http://am:9093")
    assert links["runbook"].endswith("/runbooks/RedisDown")
    assert "service.name" in links["logs"]
    assert "booking" in links["logs"]
    assert links["silence"] == links["incident"] + "/silence"  # the page's confirmation
    assert set(links) >= {"incident", "acknowledge", "runbook", "logs", "silence", "source"}
    with_ui = router_settings.model_copy(update={"alertmanager_ui_url": "http://am:9093"})
    ui = links_for(with_ui, alert, "http://am:9093")["alertmanager"]
    assert ui.startswith("http://am:9093/#/silences/new?filter=")
