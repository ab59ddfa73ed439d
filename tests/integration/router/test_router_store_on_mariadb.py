"""The store on a shared SQL server (what an HA pair of routers uses): the real MariaDB."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, make_url, text
from sqlalchemy.dialects.mysql import LONGTEXT

from router.app import create_app
from router.ingest import ingest
from router.payload import STORE_INTEGER_MAX, WebhookPayload
from router.routing import load_routing_table
from router.settings import RouterSettings
from router.store import AlertEvent, Base, Delivery, Store, TargetRef
from router.store.tables import IncidentAction
from soundcheck.settings import StackSettings
from tests.support.mariadb_sessions import connections_on
from tests.support.polling import eventually

TOKEN = "mariadb-store-test-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
# Far above what TEXT holds (64 KB): a body just under MAX_BODY_BYTES (the server needs a
# max_allowed_packet above MAX_BODY_BYTES; the stack's MariaDB runs with 64 MiB).
ROOM_FOR_THE_REST_BYTES = 64 * 1024
# The columns stores made before LONGTEXT have as TEXT.
LONG_TEXT_COLUMNS = (("webhooks", "body"), ("alert_events", "alert"))


def webhook(
    fingerprint: str, alertname: str = "RedisDown", annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    """An Alertmanager v4 webhook with one firing P0 alert."""
    return {
        "version": "4",
        "groupKey": '{}:{alertname="RedisDown"}',
        "status": "firing",
        "receiver": "router",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": alertname, "priority": "P0"},
                "annotations": annotations or {},
                "startsAt": "2026-11-24T08:00:00Z",
                "fingerprint": fingerprint,
            }
        ],
    }


def test_two_routers_on_one_database_plan_each_delivery_once(
    mariadb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING", "k" * 32)
    settings = RouterSettings(database_url=mariadb_url)
    table = load_routing_table(settings.routing_file, settings)
    first, second = Store(mariadb_url), Store(mariadb_url)
    first.create_schema()
    raw = (
        b'{"version":"4","groupKey":"g","status":"firing","receiver":"r","alerts":[{"status":'
        b'"firing","labels":{"alertname":"RedisDown","priority":"P0"},"startsAt":'
        b'"2026-11-24T08:00:00Z","fingerprint":"ha01"}]}'
    )
    payload = WebhookPayload.model_validate_json(raw)
    results = [ingest(store, table, payload, raw) for store in (first, second, first)]
    assert [r.deliveries for r in results] == [3, 0, 0]
    with first.session() as session:
        assert session.query(Delivery).count() == 3


def test_target_refs_are_replaced_per_thread_on_mariadb(mariadb_url: str) -> None:
    """What Slack or Jira gave back is one row per (target, destination, identity) there too:
    the later ref replaces the earlier one, another thread gets its own row."""
    store = Store(mariadb_url)
    store.create_schema()
    first = {"target": "slack", "destination": "#alerts", "identity": "a1", "updated_at": 1.0}
    with store.session() as session:
        store.save_refs(session, [{**first, "ref": '{"ts": "1"}'}])
    with store.session() as session:
        store.save_refs(
            session,
            [
                {**first, "ref": '{"ts": "2"}', "updated_at": 2.0},
                {**first, "identity": "a2", "ref": '{"ts": "3"}'},
            ],
        )
    with store.reading() as session:
        rows = session.query(TargetRef).order_by(TargetRef.identity).all()
    assert [(r.identity, r.ref, r.updated_at) for r in rows] == [
        ("a1", '{"ts": "2"}', 2.0),
        ("a2", '{"ts": "3"}', 1.0),
    ]


def test_every_webhook_the_router_accepts_fits_the_mariadb_store(
    mariadb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever passes validation is stored, not refused by the database: a body near the size
    limit (TEXT holds 64 KB), the longest strings in 4-byte characters, the largest counts.
    A refusal there was a 503 that Alertmanager retries for ever."""
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING", "k" * 32)
    settings = RouterSettings(database_url=mariadb_url, token=TOKEN)
    big = webhook(
        "big0",
        annotations={"description": "x" * (settings.max_body_bytes - ROOM_FOR_THE_REST_BYTES)},
    )
    wide = webhook("wide0", alertname="\U0001f3b8" * 300) | {
        "groupKey": "\U0001f3b8" * 8192,
        "receiver": "\U0001f3b8" * 1024,
        "externalURL": "http://am.example/" + "\U0001f3b8" * 8000,
        "truncatedAlerts": STORE_INTEGER_MAX,
    }
    with TestClient(create_app(settings, start_worker=False, instrumented=False)) as client:
        for body in (big, wide):
            raw = json.dumps(body).encode()
            assert len(raw) <= settings.max_body_bytes
            answer = client.post("/alerts", content=raw, headers=BEARER)
            assert answer.status_code == 200, answer.text[:300]
            assert answer.json()["new_alert_events"] == 1
        too_many = webhook("many0") | {"truncatedAlerts": STORE_INTEGER_MAX + 1}
        answer = client.post("/alerts", json=too_many, headers=BEARER)
        assert answer.status_code == 422
        assert answer.json()["problems"][0]["field"] == "truncatedAlerts"


def test_a_stopped_router_closes_its_connections_to_the_shared_database(
    mariadb_url: str, settings: StackSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Left to the process's exit, each one is an "Aborted connection" in MariaDB's log."""
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING", "k" * 32)
    router_settings = RouterSettings(database_url=mariadb_url, token=TOKEN)
    database = str(make_url(mariadb_url).database)
    with TestClient(create_app(router_settings, start_worker=False, instrumented=False)) as client:
        answer = client.post("/alerts", json=webhook("bye0"), headers=BEARER)
        assert answer.status_code == 200, answer.text[:300]
        assert connections_on(settings, database) >= 1
    eventually(lambda: connections_on(settings, database) == 0, 10, "the router's pool closed")


def test_a_store_made_with_text_columns_gets_longtext_at_start(mariadb_url: str) -> None:
    store = Store(mariadb_url)
    Base.metadata.create_all(store.engine)  # as the router made it before Alembic
    IncidentAction.__table__.drop(store.engine)  # type: ignore[attr-defined]  # came with revision 0005
    with store.engine.begin() as connection:
        for table, column in LONG_TEXT_COLUMNS:  # as stores made before LONGTEXT have them
            connection.execute(text(f"ALTER TABLE {table} MODIFY COLUMN {column} TEXT NOT NULL"))
    Store(mariadb_url).create_schema()
    inspector = inspect(store.engine)
    for table, column in LONG_TEXT_COLUMNS:
        (kind,) = [c["type"] for c in inspector.get_columns(table) if c["name"] == column]
        assert isinstance(kind, LONGTEXT), (table, column, kind)


ROUNDS = 20
ALERTS_PER_WEBHOOK = 30


def round_webhook(round_number: int) -> dict[str, Any]:
    """One notification of ALERTS_PER_WEBHOOK firing P0 alerts, new in each round."""
    alerts = [
        webhook(f"r{round_number}a{number}")["alerts"][0] for number in range(ALERTS_PER_WEBHOOK)
    ]
    return webhook("unused") | {"alerts": alerts}


def test_two_routers_sent_the_same_webhook_at_the_same_moment_plan_it_once(
    mariadb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HA pair of Alertmanagers sends each notification to both routers at once; on one
    store the unique keys (not the read before the insert) keep it to one page, post, ticket."""
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING", "k" * 32)
    settings = RouterSettings(database_url=mariadb_url, token=TOKEN)
    targets = len(load_routing_table(settings.routing_file, settings).route("P0").targets())
    both_ready = threading.Barrier(2)
    with (
        TestClient(create_app(settings, start_worker=False, instrumented=False)) as first,
        TestClient(create_app(settings, start_worker=False, instrumented=False)) as second,
    ):

        def send(client: TestClient, body: bytes) -> dict[str, Any]:
            both_ready.wait(timeout=60)
            answer = client.post("/alerts", content=body, headers=BEARER)
            assert answer.status_code == 200, answer.text[:300]
            result: dict[str, Any] = answer.json()
            return result

        with ThreadPoolExecutor(max_workers=2) as pool:
            for round_number in range(ROUNDS):
                body = json.dumps(round_webhook(round_number)).encode()
                answers = list(pool.map(send, (first, second), (body, body)))
                stored = sum(a["new_alert_events"] for a in answers)
                planned = sum(a["deliveries_planned"] for a in answers)
                assert (stored, planned) == (ALERTS_PER_WEBHOOK, ALERTS_PER_WEBHOOK * targets), (
                    f"round {round_number}: {answers}"
                )
    store = Store(mariadb_url)
    with store.reading() as session:
        events = session.query(AlertEvent).count()
        deliveries = session.query(Delivery).count()
    assert events == ROUNDS * ALERTS_PER_WEBHOOK
    assert deliveries == ROUNDS * ALERTS_PER_WEBHOOK * targets
