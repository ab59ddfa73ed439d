"""The alert path when things break: a PagerDuty outage, a router crash, dead letters replayed
by the CLI; each alert is still delivered once."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from sandbox.client import SandboxClient
from soundcheck.settings import TestRunSettings
from tests.support.harness import RouterProcess
from tests.support.polling import eventually
from tests.support.router_alerts import (
    STARTED_WITHIN,
    alertname_in,
    all_resolved,
    delivery_states,
    post_webhook,
)


def test_pagerduty_outage_and_router_crash_still_deliver_each_alert_once(
    router: RouterProcess, sandbox: SandboxClient, router_home: Path, token: str
) -> None:
    outage = TestRunSettings().test_pagerduty_outage_seconds
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
