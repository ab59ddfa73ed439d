"""The whole alert path: Alertmanager → router → sandbox PagerDuty / Slack / Jira / e-mail."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from sandbox.client import SandboxClient
from tests.support.harness import AlertmanagerProcess, RouterProcess
from tests.support.polling import eventually

# How long a router's first deliveries may take to start on a loaded shared machine (they took
# 11-20 s there with a load average of 20: graphs, client imports).
STARTED_WITHIN = 60
HOSTILE = '<!channel> *bold* {code}x{code} [link|http://evil] " OR project = "SECRET'


def am_alert(name: str, priority: str, resolved: bool = False, **labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    alert: dict[str, Any] = {
        "labels": {"alertname": name, "priority": priority, "service": "booking", **labels},
        "annotations": {
            "summary": f"{name} test",
            "description": "from the e2e test",
            # as every rule has one; the router links its own page only for runbooks it serves
            "runbook_url": "http://127.0.0.1:8080/runbooks/RedisDown",
        },
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up&g0.tab=1",
    }
    if resolved:
        alert["endsAt"] = (now - timedelta(seconds=1)).isoformat()
    return alert


def post_webhook(
    router: RouterProcess, token: str, group: str, alerts: list[dict[str, Any]]
) -> httpx.Response:
    """A webhook as Alertmanager sends it, straight to the router (as a retry or HA twin would)."""
    now = datetime.now(UTC).isoformat()
    payload = {
        "version": "4",
        "groupKey": f"{{}}:{{{group}}}",
        "status": "firing",
        "receiver": "router",
        "externalURL": "http://alertmanager",
        "alerts": [
            {
                "status": "firing",
                "annotations": {"summary": a["labels"]["alertname"]},
                "startsAt": now,
                **a,
            }
            for a in alerts
        ],
    }
    return httpx.post(
        f"{router.url}/alerts",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def alertname_in(text: str) -> str:
    """`FIRING P0 Name: summary` → `Name`."""
    return text.split()[2].rstrip(":")


def fingerprints(router_home: Path) -> dict[str, str]:
    with sqlite3.connect(router_home / "router.db") as db:
        return dict(db.execute("SELECT alertname, fingerprint FROM alert_events"))


def delivery_states(router_home: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(router_home / "router.db") as db:
        return list(db.execute("SELECT target, action, state FROM deliveries"))


def webhooks_for(router_home: Path, name: str) -> int:
    with sqlite3.connect(router_home / "router.db") as db:
        return int(
            db.execute(
                "SELECT count(*) FROM webhooks WHERE group_key LIKE ?", (f"%{name}%",)
            ).fetchone()[0]
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


def all_resolved(router_home: Path) -> bool:
    return all(s == "delivered" for _, _, s in delivery_states(router_home))


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


def test_pagerduty_outage_and_router_crash_still_deliver_each_alert_once(
    router: RouterProcess, sandbox: SandboxClient, router_home: Path, token: str
) -> None:
    outage = float(os.environ.get("SOUNDCHECK_TEST_PAGERDUTY_OUTAGE_SECONDS", "60"))
    sandbox.fault("pagerduty", kind="error", status=500, for_seconds=outage)
    sandbox.fault("slack", kind="latency", latency_ms=2500)
    run = f"E2ECrash{uuid.uuid4().hex[:4]}"
    names = [f"{run}n{i}" for i in range(4)]
    alerts = [
        {
            "labels": {"alertname": n, "priority": "P0", "service": "booking"},
            "fingerprint": f"{i:016x}",
        }
        for i, n in enumerate(names)
    ]
    answer = post_webhook(router, token, "crash", alerts)
    assert answer.status_code == 200
    # wait until Slack posts are in flight (the sandbox is holding them) and PagerDuty has failed
    eventually(
        lambda: any(e["kind"] == "fault" for e in sandbox.received("slack")),
        STARTED_WITHIN,
        "a Slack call in flight",
    )
    eventually(
        lambda: any(e["kind"] == "fault" for e in sandbox.received("pagerduty")),
        STARTED_WITHIN,
        "PagerDuty failing",
    )
    router.kill()
    sandbox.clear_fault("slack")
    router.start()
    eventually(
        lambda: len(delivery_states(router_home)) == 12 and all_resolved(router_home),
        outage + 60,
        "every delivery done after the outage and the crash",
    )
    for index in range(len(names)):
        key = f"soundcheck-{index:016x}"
        assert len(sandbox.incidents(key)) == 1
        assert (
            len(
                [
                    e
                    for e in sandbox.received("pagerduty")
                    if e.get("dedup_key") == key and e["kind"] == "trigger"
                ]
            )
            == 1
        )
    posted = [alertname_in(m["text"]) for m in sandbox.slack_messages("alerts-critical", run)]
    assert sorted(posted) == sorted(names), (
        "one Slack message per alert, even for posts cut by the crash"
    )
    assert sorted(i["summary"].split()[1].rstrip(":") for i in sandbox.jira_issues(run)) == sorted(
        names
    )


def test_dead_letters_are_replayed_by_the_cli(
    router: RouterProcess, sandbox: SandboxClient, router_home: Path, token: str, settings: Any
) -> None:
    router.stop()
    router.env["SOUNDCHECK_ROUTER_DEAD_LETTER_AFTER_SECONDS"] = "2"
    router.start()
    sandbox.fault("pagerduty", kind="error", status=502)
    alert = {"labels": {"alertname": "E2EDead", "priority": "P0"}, "fingerprint": "deadbeef"}
    post_webhook(router, token, "dead", [alert]).raise_for_status()
    eventually(
        lambda: ("pagerduty", "trigger", "dead") in delivery_states(router_home),
        20,
        "a dead letter",
    )
    sandbox.clear_fault("pagerduty")
    replay = subprocess.run(
        [
            sys.executable,
            "-m",
            "soundcheck.cli",
            "router",
            "replay",
            "--database-url",
            f"sqlite:///{router_home / 'router.db'}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert replay.returncode == 0, replay.stderr
    assert "1 dead letter" in replay.stdout
    eventually(
        lambda: ("pagerduty", "trigger", "delivered") in delivery_states(router_home),
        20,
        "the replayed delivery",
    )
    assert len(sandbox.incidents("soundcheck-deadbeef")) == 1


# What the webhook answers a request that got past authentication: stored, or refused as a
# payload (too large, not v4). A 401 means the fuzzer never reached the webhook's own code.
PAST_AUTHENTICATION = {200, 413, 422}
WEBHOOKS_FUZZED_AT_LEAST = 50  # one run sent 230 (max-examples 40)


def test_schemathesis_finds_no_server_error(
    router: RouterProcess, token: str, tmp_path: Path
) -> None:
    requests_made = tmp_path / "requests.har"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{router.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "40",
            "-H",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            "10",
            "--report",
            "har",
            "--report-har-path",
            str(requests_made),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    webhooks = [
        entry["response"]["status"]
        for entry in json.loads(requests_made.read_text())["log"]["entries"]
        if entry["request"]["method"] == "POST"
        and httpx.URL(entry["request"]["url"]).path == "/alerts"
    ]
    past_authentication = [status for status in webhooks if status in PAST_AUTHENTICATION]
    assert len(past_authentication) >= WEBHOOKS_FUZZED_AT_LEAST, (
        f"only {len(past_authentication)} of {len(webhooks)} requests to /alerts got past "
        f"authentication: {sorted(set(webhooks))}"
    )
