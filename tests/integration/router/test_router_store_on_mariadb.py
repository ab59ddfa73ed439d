"""The store on a shared SQL server (what an HA pair of routers uses): the real MariaDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from router.ingest import ingest
from router.payload import WebhookPayload
from router.routing import load_routing_table
from router.settings import RouterSettings
from router.store import Delivery, Store, TargetRef
from sandbox.harness import parts_up
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection


@pytest.fixture
def mariadb_url(settings: StackSettings) -> Iterator[str]:
    with parts_up(settings, ["mariadb"]):
        name = f"{settings.mariadb_database}_router_{uuid.uuid4().hex[:6]}"
        password = settings.mariadb_password.get_secret_value()
        connection = app_connection(settings)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        yield (
            f"mysql+pymysql://{settings.mariadb_user}:{password}@{settings.host}:"
            f"{settings.mariadb_port}/{name}?charset=utf8mb4"
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE {name}")
        connection.close()


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
