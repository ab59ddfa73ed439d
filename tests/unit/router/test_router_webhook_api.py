"""The webhook API in-process (no worker): auth, validation, persistence, idempotency, runbooks."""

from __future__ import annotations

import base64
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from router.app import create_app
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


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RouterSettings:
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING", "k" * 32)
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "RedisDown.md").write_text(
        "# RedisDown\n\n<script>x</script> Check `redis-cli ping`.\n"
    )
    return RouterSettings(
        token=TOKEN,
        basic_user="am",
        basic_password="secret",
        database_url=f"sqlite:///{tmp_path / 'router.db'}",
        runbooks_dir=runbooks,
        max_body_bytes=20_000,
    )


@pytest.fixture
def client(settings: RouterSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, start_worker=False, instrumented=False)) as test_client:
        yield test_client


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def deliveries(settings: RouterSettings) -> list[tuple[str, str]]:
    path = settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT target, action FROM deliveries ORDER BY target"))


def test_no_credentials_get_401(client: TestClient) -> None:
    answer = client.post("/alerts", json=payload())
    assert answer.status_code == 401
    assert "bearer token" in answer.json()["detail"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_token_gets_401(client: TestClient) -> None:
    assert client.post("/alerts", json=payload(), headers=bearer("nope")).status_code == 401


def test_basic_auth_is_accepted(client: TestClient) -> None:
    good = base64.b64encode(b"am:secret").decode()
    bad = base64.b64encode(b"am:wrong").decode()
    assert (
        client.post(
            "/alerts", json=payload(), headers={"Authorization": f"Basic {good}"}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/alerts", json=payload(), headers={"Authorization": f"Basic {bad}"}
        ).status_code
        == 401
    )


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


def test_runbook_is_served_as_html(client: TestClient) -> None:
    page = client.get("/runbooks/RedisDown")
    assert page.status_code == 200
    assert "<h1" in page.text
    assert "<code>redis-cli ping</code>" in page.text
    assert client.get("/runbooks/NoSuchAlert").status_code == 404
    assert client.get("/runbooks/..%2Fsecrets").status_code == 404
    assert "RedisDown" in client.get("/runbooks").text


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    client.post("/alerts", json=payload(), headers=bearer())
    text = client.get("/metrics").text
    assert 'router_alerts_received_total{status="firing"}' in text
    assert 'router_queue_depth{state="pending"}' in text


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


def basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Bearer    ",
        f"Bearer {TOKEN[:1]}",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN}{TOKEN}",
        f"Bearer {TOKEN.upper()}",
        f"Bearer{TOKEN}",
        f"Token {TOKEN}",
        TOKEN,
        "Basic",
        "Basic ",
        basic(b""),
        basic(b":"),
        basic(b"am"),
        basic(b"am:"),
        basic(b"am:secre"),
        basic(b"am:secretx"),
        basic(b"a:secret"),
        basic(b"amx:secret"),
        basic(b":secret"),
        basic(b"am:secret:"),
        "Basic not-base64!",
        f"Basic {TOKEN}",
        f"Bearer {base64.b64encode(b'am:secret').decode()}",
    ],
)
def test_anything_but_the_exact_credentials_gets_401(
    client: TestClient, settings: RouterSettings, authorization: str
) -> None:
    """Empty, shortened, longer or otherwise wrong credentials: not one is a prefix match."""
    answer = client.post("/alerts", json=payload(), headers={"Authorization": authorization})
    assert answer.status_code == 401, authorization
    assert deliveries(settings) == []


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {TOKEN}",
        f"bearer {TOKEN}",
        f"BEARER {TOKEN}",
        f"BeArEr {TOKEN}",
        basic(b"am:secret"),
        "basic " + base64.b64encode(b"am:secret").decode(),
        "BASIC " + base64.b64encode(b"am:secret").decode(),
    ],
)
def test_the_exact_credentials_are_accepted_whatever_the_scheme_case(
    client: TestClient, authorization: str
) -> None:
    """RFC 9110: the auth scheme is case-insensitive; the credentials are not."""
    answer = client.post("/alerts", json=payload(), headers={"Authorization": authorization})
    assert answer.status_code == 200, authorization


def test_a_wrong_method_gets_405_with_allow_naming_the_right_ones(client: TestClient) -> None:
    """RFC 9110 §15.5.6: a 405 lists the methods the resource supports."""
    for route in client.app.routes:  # type: ignore[attr-defined]
        methods: set[str] = getattr(route, "methods", None) or set()
        if not methods:
            continue
        path = str(route.path).replace("{alertname}", "RedisDown")
        wrong = "DELETE" if "DELETE" not in methods else "PATCH"
        answer = client.request(wrong, path)
        assert answer.status_code == 405, (wrong, path)
        assert set(answer.headers["Allow"].replace(" ", "").split(",")) >= methods, path
        assert answer.headers["Allow"] in answer.json()["detail"], answer.text
    nowhere = client.get("/no/such/path")
    assert nowhere.status_code == 404
    assert "/docs" in nowhere.json()["detail"]


def references(node: object) -> list[str]:
    """Every `$ref` anywhere in a JSON document."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in references(value)]
    if isinstance(node, list):
        return [r for value in node for r in references(value)]
    return []


def resolve(document: dict[str, Any], reference: str) -> Any:
    assert reference.startswith("#/"), reference
    node: Any = document
    for part in reference[2:].split("/"):
        assert isinstance(node, dict), f"{reference} does not resolve"
        assert part in node, f"{reference} does not resolve"
        node = node[part]
    return node


def test_openapi_document_describes_the_webhook_and_its_credentials(client: TestClient) -> None:
    """The webhook's body schema and security schemes are in the document, so clients and
    fuzzers can build a valid, authenticated request (they once sent 1 in 15,556 to it)."""
    document = client.get("/openapi.json").json()
    for reference in references(document):
        resolve(document, reference)
    operation = document["paths"]["/alerts"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    webhook = resolve(document, body["$ref"])
    assert {"version", "alerts", "truncatedAlerts"} <= set(webhook["properties"])
    assert webhook["properties"]["truncatedAlerts"]["maximum"] == 2**31 - 1
    schemes = document["components"]["securitySchemes"]
    for requirement in operation["security"]:
        for name in requirement:
            assert name in schemes, f"/alerts asks for an undeclared security scheme {name}"
    assert {schemes[name]["scheme"] for name in schemes} == {"bearer", "basic"}
