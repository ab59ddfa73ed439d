"""Alertmanager webhook bodies and credentials for the router's in-process API tests."""

from __future__ import annotations

import base64
import sqlite3
from typing import Any

from router.settings import RouterSettings

TOKEN = "test-token-0123456789"


def payload(fingerprint: str = "f00d", status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="RedisDown"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "router",
        "groupLabels": {"alertname": "RedisDown"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "newFieldFromAFutureAlertmanager": {"kept": True},
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "RedisDown", "priority": "P0", **labels},
                "annotations": {"summary": "Redis is down"},
                "startsAt": "2026-11-24T08:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
                "fingerprint": fingerprint,
            }
        ],
    }


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


def deliveries(settings: RouterSettings) -> list[tuple[str, str]]:
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT target, action FROM deliveries ORDER BY target"))
