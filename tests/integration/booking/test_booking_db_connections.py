"""The booking service's pool pings no connection on every checkout, yet one that died while
idle in the pool (a MariaDB restart, a killed session) is replaced before a request gets it; and
it rolls back no transaction that committed, yet every other connection comes back clean."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, text

from booking_app import db
from booking_app.settings import BookingSettings
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import database_url
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack


def test_connection_killed_while_idle_is_replaced_before_use(
    stack: Stack, settings: StackSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = database_url(settings, settings.mariadb_database)
    engine = db.make_engine(
        BookingSettings(database_url=SecretStr(url), pool_size=1, pool_max_overflow=0)
    )
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT CONNECTION_ID()")).scalar_one()
        with app_connection(settings) as admin, admin.cursor() as cursor:
            cursor.execute(f"KILL {int(first)}")
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # it has been idle "long enough"
        with engine.connect() as conn:
            second = conn.execute(text("SELECT CONNECTION_ID()")).scalar_one()
        assert second != first
    finally:
        engine.dispose()


def _one_connection_engine(settings: StackSettings) -> Engine:
    url = database_url(settings, settings.mariadb_database)
    return db.make_engine(
        BookingSettings(database_url=SecretStr(url), pool_size=1, pool_max_overflow=0)
    )


def _session_counters(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SHOW SESSION STATUS WHERE Variable_name IN ('Com_commit', 'Com_rollback')")
        ).all()
    return {str(name): int(value) for name, value in rows}


def test_a_committed_transaction_goes_back_to_the_pool_without_a_rollback(
    stack: Stack, settings: StackSettings
) -> None:
    engine = _one_connection_engine(settings)
    try:
        before = _session_counters(engine)
        for _ in range(5):
            with db.committed(engine) as conn:
                conn.execute(text("SELECT 1"))
        after = _session_counters(engine)
    finally:
        engine.dispose()
    assert after["Com_commit"] - before["Com_commit"] == 5
    # The one rollback is the first reading's own return (it ran no transaction of ours).
    assert after["Com_rollback"] - before["Com_rollback"] == 1


def _insert_then_fail(engine: Engine, table: str) -> None:
    with db.committed(engine) as conn:
        conn.execute(text(f"INSERT INTO {table} VALUES (2)"))
        raise RuntimeError("the request failed after its INSERT")


def test_a_connection_returned_mid_transaction_is_rolled_back_before_the_next_caller(
    stack: Stack, settings: StackSettings
) -> None:
    table = f"pool_reset_probe_{uuid.uuid4().hex[:8]}"
    engine = _one_connection_engine(settings)
    try:
        with db.committed(engine) as conn:
            conn.execute(text(f"CREATE TABLE {table} (id INT PRIMARY KEY) ENGINE=InnoDB"))
        with pytest.raises(RuntimeError, match="after its INSERT"):
            _insert_then_fail(engine, table)
        with engine.connect() as conn:  # no committed mark left from before
            # Straight through the driver: SQLAlchemy sees no transaction, only the pool's
            # reset can end it.
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(f"INSERT INTO {table} VALUES (1)")
            cursor.close()
        with engine.connect() as conn:  # the same, only connection: no transaction left open
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()
