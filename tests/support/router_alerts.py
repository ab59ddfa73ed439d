"""Alerts for the router end-to-end tests: Alertmanager's alerts and webhooks as the router gets
them, and what the router's own database says it did with them."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.support.harness import RouterProcess

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


def webhook_body(group: str, alerts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A webhook body as Alertmanager sends it (one made-up alert when none are given)."""
    now = datetime.now(UTC).isoformat()
    return {
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
            for a in (alerts or [am_alert(group, "P3")])
        ],
    }


def post_webhook(
    router: RouterProcess, token: str, group: str, alerts: list[dict[str, Any]]
) -> httpx.Response:
    """A webhook as Alertmanager sends it, straight to the router (as a retry or HA twin would)."""
    return httpx.post(
        f"{router.url}/alerts",
        json=webhook_body(group, alerts),
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


def all_resolved(router_home: Path) -> bool:
    return all(s == "delivered" for _, _, s in delivery_states(router_home))
