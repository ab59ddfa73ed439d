"""The whole alert path: Alertmanager → router → sandbox PagerDuty / Slack / Jira / e-mail: each
alert reaches its targets once, by priority, and its resolution closes them."""

from __future__ import annotations

import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from sandbox.client import SandboxClient
from tests.support.harness import AlertmanagerProcess, RouterProcess
from tests.support.polling import eventually
from tests.support.router_alerts import (
    HOSTILE,
    STARTED_WITHIN,
    alertname_in,
    all_resolved,
    am_alert,
    delivery_states,
    fingerprints,
    webhooks_for,
)


def test_alert_reaches_targets_by_priority_and_resolution_closes_them(
    alertmanager: AlertmanagerProcess,
    router: RouterProcess,
    sandbox: SandboxClient,
    router_home: Path,
) -> None:
    run = uuid.uuid4().hex[:6]
    names = {p: f"E2E{p}{run}" for p in ("P0", "P1", "P2", "P3")}
    alertmanager.post_alerts([am_alert(n, p) for p, n in names.items()])

    def all_delivered() -> bool:
        states = delivery_states(router_home)
        return len(states) == 3 + 4 + 1 + 1 and all(s == "delivered" for _, _, s in states)

    eventually(
        all_delivered, STARTED_WITHIN, "every planned delivery of the four priorities delivered"
    )
    fp = fingerprints(router_home)
    [incident] = sandbox.incidents(f"soundcheck-{fp[names['P0']]}")
    assert incident["severity"] == "critical"
    assert incident["status"] == "triggered"
    assert {link["text"] for link in incident["links"]} >= {
        "runbook",
        "dashboard",
        "logs",
        "silence",
    }
    assert sandbox.incidents(f"soundcheck-{fp[names['P1']]}")[0]["severity"] == "error"
    assert len(sandbox.incidents(mentioning=run)) == 2
    assert [alertname_in(m["text"]) for m in sandbox.slack_messages("alerts-critical", run)] == [
        names["P0"]
    ]
    assert [alertname_in(m["text"]) for m in sandbox.slack_messages("alerts-high", run)] == [
        names["P1"]
    ]
    assert [alertname_in(m["text"]) for m in sandbox.slack_messages("alerts-warning", run)] == [
        names["P2"]
    ]
    issues = sandbox.jira_issues(mentioning=run)
    assert sorted(i["priority"] for i in issues) == ["High", "Highest"]
    mails = {m["body"]["to"][0]: m["body"]["subject"] for m in sandbox.received("email", run)}
    assert names["P1"] in mails["oncall@soundcheck.example"]
    assert names["P3"] in mails["team@soundcheck.example"]

    alertmanager.post_alerts([am_alert(n, p, resolved=True) for p, n in names.items()])
    eventually(
        lambda: len(delivery_states(router_home)) == 18 and all_resolved(router_home),
        40,
        "every resolve delivered",
    )
    assert all(i["status"] == "resolved" for i in sandbox.incidents(mentioning=run))
    for channel in ("alerts-critical", "alerts-high", "alerts-warning"):
        [message] = sandbox.slack_messages(channel, run)
        assert message["text"].startswith("RESOLVED")
        assert message["edits"] >= 1
    assert all(
        i["status"] == "Done" and i["transitions"] == ["Done"]
        for i in sandbox.jira_issues(mentioning=run)
    )


def test_retries_repeats_and_ha_twins_make_one_incident_post_and_ticket(
    alertmanager: AlertmanagerProcess,
    router: RouterProcess,
    sandbox: SandboxClient,
    router_home: Path,
    token: str,
) -> None:
    name = f"E2EDup{uuid.uuid4().hex[:6]}"
    alertmanager.post_alerts([am_alert(name, "P0", note=HOSTILE)])
    eventually(
        lambda: webhooks_for(router_home, name) >= 1, 20, "Alertmanager's first notification"
    )
    with sqlite3.connect(router_home / "router.db") as db:
        body = db.execute(
            "SELECT body FROM webhooks WHERE group_key LIKE ?", (f"%{name}%",)
        ).fetchone()[0]

    def send() -> int:
        return httpx.post(
            f"{router.url}/alerts",
            content=body,
            timeout=10,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        ).status_code

    with ThreadPoolExecutor(5) as pool:
        assert list(pool.map(lambda _: send(), range(5))) == [200] * 5
    # repeat_interval is 8 s: wait for Alertmanager to send the same notification again
    eventually(
        lambda: webhooks_for(router_home, name) >= 7, 40, "a repeat notification from Alertmanager"
    )
    eventually(lambda: all_resolved(router_home), 20, "deliveries finished")
    fp = fingerprints(router_home)[name]
    assert len(sandbox.incidents(f"soundcheck-{fp}")) == 1
    triggers = [e for e in sandbox.received("pagerduty", name) if e["kind"] == "trigger"]
    assert len(triggers) == 1
    [_message] = sandbox.slack_messages("alerts-critical", name)
    posts = [e for e in sandbox.received("slack", name) if e["kind"] == "chat.postMessage"]
    assert len(posts) == 1
    assert len(sandbox.jira_issues(name)) == 1
    # the hostile label arrived inert everywhere
    post = posts[0]["body"]
    assert "<!channel>" not in post["text"]
    assert all(b.get("text", {}).get("type", "plain_text") == "plain_text" for b in post["blocks"])
    [issue] = sandbox.jira_issues(name)
    assert "{code}" not in issue["description"].replace("\\{code\\}", "")
    assert all(
        "SECRET" not in e["body"]["jql"]
        for e in sandbox.received("jira")
        if e["kind"].startswith("search")
    )
