"""Which due deliveries the worker takes first: a P0 page never waits behind a storm of P2/P3."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from router.ingest import ingest
from router.payload import WebhookPayload
from router.routing import load_routing_table
from router.settings import RouterSettings
from router.store import Base, Delivery, Store
from router.store.engine import make_engine
from router.worker import Worker


def webhook(priority: str, names: list[str]) -> WebhookPayload:
    return WebhookPayload.model_validate(
        {
            "version": "4",
            "groupKey": f"{{}}:{{priority={priority}}}",
            "status": "firing",
            "receiver": "router",
            "externalURL": "http://alertmanager",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": name, "priority": priority},
                    "startsAt": datetime.now(UTC).isoformat(),
                    "fingerprint": name.lower(),
                }
                for name in names
            ],
        }
    )


def test_a_page_planned_after_a_storm_is_claimed_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING", "k" * 32)
    settings = RouterSettings(
        token="t", database_url=f"sqlite:///{tmp_path / 'router.db'}", worker_threads=3
    )
    store = Store(settings.database_url)
    store.create_schema()
    table = load_routing_table(settings.routing_file, settings)
    storm = webhook("P2", [f"Warning{n}" for n in range(50)])
    ingest(store, table, storm, storm.model_dump_json().encode())
    page = webhook("P0", ["RedisDown"])
    ingest(store, table, page, page.model_dump_json().encode())

    worker = Worker(settings, store, {})
    claimed = [delivery_id for delivery_id, _ in worker.settle_and_claim([])]

    with store.reading() as session:
        targets = {session.get(Delivery, i).target for i in claimed}  # type: ignore[union-attr]
        first_p2 = min(d.id for d in session.query(Delivery).filter(Delivery.target == "slack"))
    assert len(claimed) == 3
    assert targets == {"pagerduty", "slack", "jira"}  # the P0's three, not three warnings
    assert all(i > first_p2 + 49 for i in claimed)  # planned after all fifty warnings


def test_a_store_from_before_delivery_priorities_gets_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)  # as the router made its store before Alembic
    engine.dispose()
    with sqlite3.connect(tmp_path / "router.db") as db:  # as the first release made it
        db.execute("DROP TABLE incident_actions")  # came with revision 0005
        db.execute("DROP INDEX ix_deliveries_claim")
        db.execute("ALTER TABLE deliveries DROP COLUMN priority")
        db.execute("CREATE INDEX ix_deliveries_due ON deliveries (state, next_attempt_at)")

    Store(url).create_schema()

    with sqlite3.connect(tmp_path / "router.db") as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(deliveries)")}
        indexes = {row[1] for row in db.execute("PRAGMA index_list(deliveries)")}
    assert "priority" in columns
    assert "ix_deliveries_claim" in indexes
    assert "ix_deliveries_due" not in indexes  # it made SQLite sort the queue on each claim
