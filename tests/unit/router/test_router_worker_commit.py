"""The worker counts a delivery after its outcome is committed: a failed commit counts nothing."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from router.ingest import ingest
from router.metrics import REGISTRY
from router.outcome import Delivered
from router.payload import WebhookPayload
from router.routing import load_routing_table
from router.settings import RouterSettings
from router.store import Delivery, Store
from router.worker import Worker
from tests.support.router_webhooks import payload

# Makes the next commit that marks a delivery delivered fail, in SQLite itself: the trigger adds
# a row whose foreign key points nowhere, checked (deferred) at COMMIT, which SQLite refuses.
BREAK_THE_NEXT_COMMIT = """
CREATE TABLE nowhere (id INTEGER PRIMARY KEY);
CREATE TABLE commit_breaker (
    ref INTEGER REFERENCES nowhere (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TRIGGER break_commit AFTER UPDATE OF state ON deliveries
WHEN NEW.state = 'delivered'
BEGIN
    INSERT INTO commit_breaker VALUES (1);
END;
"""


def delivered_count(target: str) -> float:
    labels = {"target": target, "result": "delivered"}
    return REGISTRY.get_sample_value("router_deliveries_total", labels) or 0.0


def test_a_delivery_whose_outcome_commit_failed_once_is_counted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING", "k" * 32)
    database = tmp_path / "router.db"
    settings = RouterSettings(token="t", database_url=f"sqlite:///{database}", worker_threads=3)
    store = Store(settings.database_url)
    store.create_schema()
    table = load_routing_table(settings.routing_file, settings)
    page = WebhookPayload.model_validate(payload("redisdown"))
    ingest(store, table, page, page.model_dump_json().encode())
    worker = Worker(settings, store, {})
    claimed = dict(worker.settle_and_claim([]))
    with store.reading() as session:
        (page_id,) = [
            d.id for d in session.query(Delivery) if d.target == "pagerduty" and d.id in claimed
        ]
    before = delivered_count("pagerduty")
    with sqlite3.connect(database) as db:
        db.executescript(BREAK_THE_NEXT_COMMIT)
    finished = [(page_id, Delivered(note="paged"))]

    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        worker.settle_and_claim(finished, claim=False)
    with sqlite3.connect(database) as db:  # the worker records it again on its next turn
        db.execute("DROP TRIGGER break_commit")
    worker.settle_and_claim(finished, claim=False)

    with store.reading() as session:
        assert session.get(Delivery, page_id).state == "delivered"  # type: ignore[union-attr]
    assert delivered_count("pagerduty") - before == 1


def test_a_worker_started_on_a_locked_store_waits_it_out_and_releases_its_old_leases(
    tmp_path: Path,
) -> None:
    database = tmp_path / "router.db"
    url = f"sqlite:///{database}?timeout=0.2"
    settings = RouterSettings(token="t", database_url=url, poll_interval_seconds=0.05)
    store = Store(settings.database_url)
    store.create_schema()
    released = threading.Event()
    real_release = store.release_leases

    def release(owner: str) -> int:
        count = real_release(owner)
        released.set()
        return count

    store.release_leases = release  # type: ignore[method-assign]
    worker = Worker(settings, store, {})
    with sqlite3.connect(database, isolation_level=None) as other_writer:
        other_writer.execute("BEGIN EXCLUSIVE")
        worker.start()
        assert not released.wait(1.0), "nothing is released while the store is locked"
        assert worker.alive(), "the worker outlives the locked store"
        other_writer.execute("ROLLBACK")
    assert released.wait(10), "the leases are released once the lock is gone"
    assert worker.alive()
    worker.stop()
