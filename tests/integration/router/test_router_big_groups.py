"""Big and heavy groups through the stack's own Alertmanager and router (huge groups, long
annotations and the e-mail grouping): nothing is refused for its size, and what is left out is
said."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.polling import eventually

GROUP_SIZE = 2000
OLD_BODY_LIMIT = 1_048_576
HUGE = 100 * 1024


def router_url(stack: Stack) -> str:
    return stack.part("router").address()


def webhooks_answered(stack: Stack, code: str) -> float:
    text = httpx.get(f"{router_url(stack)}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "router_webhooks"
        for sample in family.samples
        if sample.name == "router_webhooks_total" and sample.labels.get("code") == code
    )


def post_to_alertmanager(stack: Stack, alerts: list[dict[str, Any]]) -> None:
    alertmanager = stack.part("alertmanager").address()
    httpx.post(f"{alertmanager}/api/v2/alerts", json=alerts, timeout=60).raise_for_status()


def resolve_in_alertmanager(stack: Stack, alerts: list[dict[str, Any]]) -> None:
    """End them, so they do not linger in the stack's Alertmanager."""
    now = datetime.now(UTC)
    ended = [
        {
            **alert,
            "startsAt": (now - timedelta(minutes=5)).isoformat(),
            "endsAt": (now - timedelta(seconds=1)).isoformat(),
        }
        for alert in alerts
    ]
    post_to_alertmanager(stack, ended)


def realistic_alert(name: str, number: int) -> dict[str, Any]:
    """About as heavy as the rules' alerts (0.7-0.9 KB in a webhook)."""
    instance = f"10.0.{number // 250}.{number % 250}:9100"
    return {
        "labels": {
            "alertname": name,
            "priority": "P3",
            "service": "biggroup",
            "instance": instance,
            "job": "node",
        },
        "annotations": {
            "summary": f"Disk on {instance} will be full within 24 hours at the current rate",
            "description": (
                f"The filesystem / on {instance} has 7.3% space left and has been filling at "
                "1.2 GB/h for the last 6 hours; at this rate it is full in about 19 hours. "
                "Look for log files that rotate no longer, core dumps and old container images "
                "before adding space."
            ),
            "runbook_url": "http://127.0.0.1:8080/runbooks/DiskWillFillIn24Hours",
            "dashboard_url": "http://127.0.0.1:3000/d/system-health/system-health",
        },
        "generatorURL": (
            "http://127.0.0.1:9090/graph?g0.expr=predict_linear%28node_filesystem_avail_bytes"
            "%5B6h%5D%2C+24+%2A+3600%29+%3C+0&g0.tab=1"
        ),
    }


def test_group_of_2000_alerts_is_accepted_and_the_email_says_and_n_more(
    router_parts: Stack, sandbox: SandboxClient
) -> None:
    name = f"BigGroup{uuid.uuid4().hex[:6]}"
    alerts = [realistic_alert(name, number) for number in range(GROUP_SIZE)]
    assert len(json.dumps(alerts)) > OLD_BODY_LIMIT, "the group outweighs the old body limit"
    refused_before = webhooks_answered(router_parts, "413")
    post_to_alertmanager(router_parts, alerts)
    try:
        mails = eventually(
            lambda: sandbox.received("email", name), 240, f"the e-mail of the {name} group"
        )
        [mail] = mails
        listed = mail["body"]["plain"].splitlines().count(f"[FIRING] {name}")
        assert listed == 100, "Alertmanager's max_alerts: the router lists every alert it got"
        assert f"and {GROUP_SIZE - listed} more" in mail["body"]["plain"]
        assert f"(and {GROUP_SIZE - listed} more)" in mail["body"]["subject"]
        assert webhooks_answered(router_parts, "413") == refused_before
    finally:
        resolve_in_alertmanager(router_parts, alerts)


def test_alert_with_100_kb_labels_is_paged_posted_and_ticketed(
    router_parts: Stack, sandbox: SandboxClient
) -> None:
    name = f"HeavyLabels{uuid.uuid4().hex[:6]}"
    alert = {
        "labels": {
            "alertname": name,
            "priority": "P0",
            "service": "heavy",
            "instance": "i" * HUGE,
            "pod": "p" * HUGE,
            "detail": "d" * HUGE,
        },
        "annotations": {"summary": "an alert with 100 KB labels"},
    }
    post_to_alertmanager(router_parts, [alert])
    try:
        eventually(
            lambda: [e for e in sandbox.received("pagerduty", name) if e["kind"] == "trigger"],
            120,
            f"{name} paged",
        )
        eventually(lambda: sandbox.slack_messages("alerts-critical", name), 60, f"{name} posted")
        eventually(lambda: sandbox.jira_issues(name), 60, f"{name} ticketed")
        assert [e for e in sandbox.received("pagerduty") if e["kind"] == "rejected"] == []
    finally:
        resolve_in_alertmanager(router_parts, [alert])


def test_one_email_per_notification_lists_its_alerts_and_says_and_n_more(
    router_parts: Stack, sandbox: SandboxClient, settings: StackSettings
) -> None:
    name = f"MailGroup{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC).isoformat()
    payload = {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "truncatedAlerts": 30,
        "status": "firing",
        "receiver": "router-p3",
        "groupLabels": {"alertname": name},
        "commonLabels": {"alertname": name, "priority": "P3"},
        "commonAnnotations": {},
        "externalURL": "http://127.0.0.1:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": name, "priority": "P3", "instance": f"host-{number}"},
                "annotations": {"summary": f"host-{number} is slow"},
                "startsAt": now,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": uuid.uuid4().hex[:16],
            }
            for number in range(10)
        ],
    }
    token = (settings.home / "router" / "token").read_text().strip()
    answer = httpx.post(
        f"{router_url(router_parts)}/alerts",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["deliveries_planned"] == 1, "one e-mail for the notification"
    [mail] = eventually(
        lambda: sandbox.received("email", name), 60, f"the e-mail of the {name} notification"
    )
    plain = mail["body"]["plain"]
    assert all(f"host-{number} is slow" in plain for number in range(10))
    assert "and 30 more" in plain
    assert "FIRING:10" in mail["body"]["subject"]
