"""The store's schema comes from the Alembic revisions, on SQLite and on the real MariaDB: they
build exactly the tables `router/store/tables.py` describes, and a store the router made before
Alembic is upgraded at start with its rows kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from router.ingest import ingest
from router.payload import WebhookPayload
from router.routing import load_routing_table
from router.settings import RouterSettings
from router.store import Base, Delivery, Store
from router.store.schema import MIGRATIONS, VERSION_TABLE
from router.store.tables import IncidentAction, Webhook
from tests.support.router_webhooks import payload

PAGE = WebhookPayload.model_validate(payload("redisdown"))


@pytest.fixture(params=["sqlite", "mariadb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'router.db'}"
    url: str = request.getfixturevalue("mariadb_url")
    return url


def differences_from_the_tables(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        return list(compare_metadata(context, Base.metadata))


def revision_of(engine: Engine) -> str | None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def test_the_migrations_build_exactly_the_tables(store_url: str) -> None:
    store = Store(store_url)
    store.create_schema()

    assert differences_from_the_tables(store.engine) == []
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert revision_of(store.engine) == head


def test_an_epoch_time_keeps_its_milliseconds(store_url: str) -> None:
    # MariaDB's FLOAT is 4 bytes: a lease or retry time came back up to 64 s off.
    store = Store(store_url)
    store.create_schema()
    at = 1_764_527_123.456
    with Session(store.engine) as session, session.begin():
        session.add(
            Webhook(
                received_at=at, group_key="g", receiver="r", status="firing", alerts=1, body="{}"
            )
        )
    with Session(store.engine) as session:
        stored = session.scalars(select(Webhook.received_at)).one()
    assert abs(stored - at) < 0.001


def test_a_store_made_before_alembic_is_upgraded_with_its_deliveries_kept(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING", "k" * 32)
    settings = RouterSettings(token="t", database_url=store_url)
    old = Store(store_url)
    Base.metadata.create_all(old.engine)  # what the router's create_schema did before Alembic
    planned = ingest(old, load_routing_table(settings.routing_file, settings), PAGE, b"{}")
    IncidentAction.__table__.drop(old.engine)  # type: ignore[attr-defined]  # came with revision 0005

    for _ in range(2):  # and a second start changes nothing
        Store(store_url).create_schema()

    assert differences_from_the_tables(old.engine) == []
    assert revision_of(old.engine) == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with old.reading() as session:
        kept = session.execute(select(func.count()).select_from(Delivery)).scalar_one()
    assert kept == planned.deliveries == 3


# A router starting: everything imported, it waits for a line on stdin, then brings the schema up.
STARTING_ROUTER = """
import sys
from router.store import Store

store = Store(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
store.create_schema()
"""


def test_two_routers_starting_together_on_one_fresh_mariadb_both_migrate(mariadb_url: str) -> None:
    """An HA pair shares one store and may start at the same moment: one migrates, the other
    waits and finds the schema done, instead of failing on tables the first just made."""
    routers = [
        subprocess.Popen(
            [sys.executable, "-c", STARTING_ROUTER, mariadb_url],
            cwd=Path(__file__).resolve().parents[3],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for router in routers:
        assert router.stdout is not None
        assert router.stdout.readline() == "ready\n"
    for router in routers:  # both go at once
        assert router.stdin is not None
        router.stdin.write("go\n")
        router.stdin.flush()
    errors = [router.communicate(timeout=300)[1] for router in routers]

    assert [router.returncode for router in routers] == [0, 0], errors
    assert differences_from_the_tables(Store(mariadb_url).engine) == []
