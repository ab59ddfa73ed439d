"""The real `pagerduty`, `slack-sdk`, `jira` and `smtplib` clients against the sandbox: every call
the router makes, its success and its failure shapes."""

from __future__ import annotations

import io
import smtplib
from email.message import EmailMessage

import pytest
from jira import JIRA, JIRAError
from pagerduty import EventsApiV2Client
from pagerduty.errors import HttpError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from router.notifiers.pagerduty import EventsClient, RateLimited
from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.sandbox import SANDBOX_ROUTING_KEY

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100


def events_client(sandbox: SandboxClient) -> EventsClient:
    client = EventsClient(SANDBOX_ROUTING_KEY, base_url=sandbox.url)
    client.retry = {}
    client.max_network_attempts = 0
    return client


def test_pagerduty_trigger_then_resolve_is_one_incident(sandbox: SandboxClient) -> None:
    client = events_client(sandbox)
    key = client.trigger(
        "Redis down",
        "redis-1",
        dedup_key="k-1",
        severity="critical",
        links=[{"href": "http://runbook", "text": "runbook"}],
    )
    assert key == "k-1"
    assert client.trigger("Redis down", "redis-1", dedup_key="k-1") == "k-1"
    assert client.resolve("k-1") == "k-1"
    [incident] = sandbox.incidents("k-1")
    assert incident["status"] == "resolved"
    assert incident["alerts"] == 2


def test_pagerduty_invalid_event_gets_400(sandbox: SandboxClient) -> None:
    client = events_client(sandbox)
    with pytest.raises(HttpError) as caught:
        client.trigger("x", "y", severity="catastrophic")
    assert caught.value.response.status_code == 400
    assert "severity" in caught.value.response.text


def test_pagerduty_429_is_raised_with_retry_after(sandbox: SandboxClient) -> None:
    sandbox.fault("pagerduty", kind="429", retry_after=7)
    with pytest.raises(RateLimited) as caught:
        events_client(sandbox).trigger("x", "y", dedup_key="k-2")
    assert caught.value.response.headers["Retry-After"] == "7"


def test_stock_pagerduty_client_refuses_plain_http(sandbox: SandboxClient) -> None:
    """Why the router's EventsClient allows http:// on loopback only."""
    with pytest.raises(Exception, match="https"):
        EventsApiV2Client(SANDBOX_ROUTING_KEY, base_url=sandbox.url)


def slack(sandbox: SandboxClient) -> WebClient:
    return WebClient(token="xoxb-test", base_url=f"{sandbox.url}/slack/api/")


def test_slack_post_update_thread_history_and_upload(sandbox: SandboxClient) -> None:
    client = slack(sandbox)
    assert client.auth_test()["ok"]
    posted = client.chat_postMessage(
        channel="#client-check",
        text="fire",
        blocks=[{"type": "section", "text": {"type": "plain_text", "text": "x"}}],
        metadata={"event_type": "soundcheck_alert", "event_payload": {"delivery": "d-1"}},
    )
    channel, ts = posted["channel"], posted["ts"]
    assert channel.startswith("C")
    client.chat_postMessage(channel=channel, thread_ts=ts, text="again")
    thread = client.conversations_replies(channel=channel, ts=ts, include_all_metadata=True)
    assert [m["text"] for m in thread["messages"]] == ["fire", "again"]
    client.chat_update(channel=channel, ts=ts, text="resolved")
    names = {c["name"]: c["id"] for c in client.conversations_list()["channels"]}
    assert names["client-check"] == channel
    history = client.conversations_history(channel=channel, include_all_metadata=True)
    assert history["messages"][0]["metadata"]["event_payload"]["delivery"] == "d-1"
    upload = client.files_upload_v2(
        channel=channel, thread_ts=ts, content=PNG, filename="g.png", title="graph"
    )
    assert upload["file"]["title"] == "graph"
    [message] = sandbox.slack_messages("client-check")
    assert message["text"] == "resolved"
    assert message["edits"] == 1
    assert [r.get("text") for r in message["replies"]] == ["again", ""]
    assert message["replies"][1]["files"][0]["id"] == upload["file"]["id"]


def test_slack_errors_are_slacks(sandbox: SandboxClient) -> None:
    client = slack(sandbox)
    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel="CNOSUCH", ts="1.2", text="x")
    assert caught.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as caught:
        WebClient(token="bad", base_url=f"{sandbox.url}/slack/api/").auth_test()
    assert caught.value.response["error"] == "not_authed"
    sandbox.fault("slack", kind="429", retry_after=3)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="#alerts-high", text="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "3"


@pytest.mark.parametrize("deployment", ["Server", "Cloud"])
def test_jira_ticket_lifecycle(sandbox: SandboxClient, deployment: str) -> None:
    sandbox.jira_deployment(deployment)
    client = JIRA(server=f"{sandbox.url}/jira", basic_auth=("u", "t"), max_retries=0)
    assert client.server_info()["deploymentType"] == deployment
    issue = client.create_issue(
        fields={
            "project": {"key": "CLIENT"},
            "issuetype": {"name": "Bug"},
            "priority": {"name": "Highest"},
            "summary": "RedisDown",
            "labels": ["soundcheck-alert-1"],
        }
    )
    assert issue.key == "CLIENT-1"
    found = client.search_issues(
        'project = "CLIENT" AND labels = "soundcheck-alert-1" ORDER BY created DESC',
        json_result=True,
    )
    assert [i["key"] for i in found["issues"]] == ["CLIENT-1"]  # type: ignore[index]
    client.add_comment("CLIENT-1", "fired again")
    names = {t["name"]: t["id"] for t in client.transitions("CLIENT-1")}
    client.transition_issue("CLIENT-1", names["Done"])
    attachment = client.add_attachment("CLIENT-1", io.BytesIO(PNG), filename="graph.png")  # type: ignore[arg-type]
    assert attachment.filename == "graph.png"
    assert client.issue("CLIENT-1").fields.status.statusCategory.key == "done"
    [ticket] = sandbox.jira_issues("CLIENT-1")
    assert ticket["comments"] == ["fired again"]
    [stored] = ticket["attachments"]
    assert stored["filename"] == "graph.png"
    assert stored["png"] is True
    assert stored["id"] == attachment.id  # the id the client was given
    searched = [
        e["kind"] for e in sandbox.received("jira", "CLIENT") if e["kind"].startswith("search")
    ]
    assert searched == ["search/jql" if deployment == "Cloud" else "search"]


def test_jira_refuses_bad_input(sandbox: SandboxClient) -> None:
    client = JIRA(server=f"{sandbox.url}/jira", basic_auth=("u", "t"), max_retries=0)
    with pytest.raises(JIRAError) as caught:
        client.create_issue(
            fields={
                "project": {"key": "CLIENT"},
                "issuetype": {"name": "Bug"},
                "summary": "x" * 256,
                "labels": ["has space"],
            }
        )
    assert caught.value.status_code == 400
    with pytest.raises(JIRAError) as caught:
        client.search_issues('labels = "x" OR project = "Y"', json_result=True)
    assert caught.value.status_code == 400


def test_smtp_sink_keeps_plain_and_html(sandbox: SandboxClient, settings: StackSettings) -> None:
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = "P3 client-check", "a@b.c", "team@d.e"
    message.set_content("plain body")
    message.add_alternative("<p>html body</p>", subtype="html")
    with smtplib.SMTP(settings.host, settings.sandbox_smtp_port, timeout=5) as smtp:
        smtp.send_message(message)
    [received] = sandbox.received("email", "client-check")
    assert received["body"]["plain"].strip() == "plain body"
    assert "<p>html body</p>" in received["body"]["html"]
