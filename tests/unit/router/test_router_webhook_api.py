"""The webhook API in-process (no worker): persistence, idempotency, heartbeat, validation."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from router.app import create_app
from router.settings import RouterSettings
from tests.support.router_webhooks import bearer, deliveries, payload


def test_valid_payload_is_persisted_with_one_delivery_per_target(
    client: TestClient, settings: RouterSettings
) -> None:
    answer = client.post("/alerts", json=payload(), headers=bearer())
    assert answer.status_code == 200
    assert answer.json()["deliveries_planned"] == 3
    assert deliveries(settings) == [
        ("jira", "trigger"),
        ("pagerduty", "trigger"),
        ("slack", "trigger"),
    ]


def test_same_notification_again_plans_nothing(
    client: TestClient, settings: RouterSettings
) -> None:
    for _ in range(3):
        assert client.post("/alerts", json=payload(), headers=bearer()).status_code == 200
    answer = client.post("/alerts", json=payload(), headers=bearer()).json()
    assert answer["duplicate_alert_events"] == 1
    assert answer["deliveries_planned"] == 0
    assert len(deliveries(settings)) == 3


def watchdog_seen(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("router_watchdog_last_seen_timestamp_seconds "):
            return float(line.split()[-1])
    raise AssertionError("no router_watchdog_last_seen_timestamp_seconds on /metrics")


def test_the_watchdog_is_a_heartbeat_not_a_message(
    client: TestClient, settings: RouterSettings
) -> None:
    before = time.time()
    assert watchdog_seen(client) < before
    heartbeat = payload(priority="P3") | {"receiver": "watchdog"}
    assert client.post("/alerts", json=heartbeat).status_code == 401  # still authenticated
    answer = client.post("/alerts", json=heartbeat, headers=bearer())
    assert answer.status_code == 200
    assert answer.json() == {"heartbeat": True, "deliveries_planned": 0}
    assert deliveries(settings) == []
    assert watchdog_seen(client) >= before


def test_resolution_plans_resolve_deliveries(client: TestClient, settings: RouterSettings) -> None:
    client.post("/alerts", json=payload(), headers=bearer())
    client.post("/alerts", json=payload(status="resolved"), headers=bearer())
    assert sorted(a for _, a in deliveries(settings)) == ["resolve"] * 3 + ["trigger"] * 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": "3"}, "version"),
        ({**payload(), "alerts": []}, "alerts"),
        ({**payload(), "alerts": [{"status": "burning"}]}, "alerts.0.status"),
        ({**payload(), "truncatedAlerts": -1}, "truncatedAlerts"),
        # Beyond what the store's INTEGER column holds (MariaDB INT, then SQLite's 64 bits):
        ({**payload(), "truncatedAlerts": 2**31}, "truncatedAlerts"),
        ({**payload(), "truncatedAlerts": 2**63}, "truncatedAlerts"),
        ({**payload(), "truncatedAlerts": 9223372036854775808 * 2}, "truncatedAlerts"),
        ({**payload(), "truncatedAlerts": 10**40}, "truncatedAlerts"),
        ({**payload(), "truncatedAlerts": 1e30}, "truncatedAlerts"),
    ],
)
def test_malformed_payload_gets_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str, caplog: pytest.LogCaptureFixture
) -> None:
    answer = client.post("/alerts", json=body, headers=bearer())
    assert answer.status_code == 422
    assert field in [p["field"] for p in answer.json()["problems"]]
    assert "Traceback" not in answer.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_not_json_gets_422(client: TestClient) -> None:
    answer = client.post("/alerts", content=b"{not json", headers=bearer())
    assert answer.status_code == 422


def test_body_over_the_limit_gets_413(client: TestClient) -> None:
    big = payload()
    big["alerts"][0]["annotations"]["description"] = "x" * 30_000
    answer = client.post("/alerts", content=json.dumps(big), headers=bearer())
    assert answer.status_code == 413


def test_store_failure_gets_503_so_alertmanager_retries(
    client: TestClient, settings: RouterSettings
) -> None:
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE deliveries")
    answer = client.post("/alerts", json=payload(fingerprint="beef"), headers=bearer())
    assert answer.status_code == 503
    assert answer.headers["Retry-After"]
    assert "retry" in answer.json()["detail"]


def test_pagerduty_group_mode_resolves_only_when_the_whole_group_is(
    tmp_path: Path, settings: RouterSettings
) -> None:
    table = tmp_path / "routing.yml"
    table.write_text("priorities:\n  P0:\n    pagerduty: {service: booking, dedup: group}\n")
    grouped = settings.model_copy(update={"routing_file": table})
    with TestClient(create_app(grouped, start_worker=False, instrumented=False)) as client:
        body = payload(fingerprint="a1")
        body["alerts"].append({**body["alerts"][0], "fingerprint": "a2"})
        client.post("/alerts", json=body, headers=bearer())
        partly = payload(fingerprint="a1", status="resolved")
        partly["status"] = "firing"  # a2 still fires
        client.post("/alerts", json=partly, headers=bearer())
        assert sorted(a for _, a in deliveries(settings)) == ["trigger", "trigger"]
        client.post("/alerts", json=payload(fingerprint="a2", status="resolved"), headers=bearer())
        assert sorted(a for _, a in deliveries(settings)) == ["resolve", "trigger", "trigger"]
