"""Queue writes and deadlocks. A write to one token by its value locks that token's row alone,
whatever MariaDB's statistics (a status poll that scanned the status index deadlocked with the
activation's expiry scan); and a queue transaction that MariaDB still rolls back as a deadlock's
victim runs again instead of answering 503 (booking_app.db.retry_deadlock): a real deadlock on
the stack's MariaDB."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pymysql
import pytest
from sqlalchemy import Engine, Update, create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.mysql import pymysql as mysql_pymysql

from booking_app import points, waiting_queue
from booking_app.db import retry_deadlock
from booking_app.queue_statements import finish, keep_alive
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import database_url, fresh_database
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack


@pytest.fixture
def tables(stack: Stack, settings: StackSettings) -> Iterator[tuple[str, str]]:
    """Two rows to deadlock on and a table that makes the other transaction the heavier one
    (InnoDB rolls back the transaction that changed fewer rows)."""
    suffix = secrets.token_hex(4)
    rows, ballast = f"deadlock_rows_{suffix}", f"deadlock_ballast_{suffix}"
    with app_connection(settings, settings.mariadb_database) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {rows} (id INT PRIMARY KEY, v INT NOT NULL)")
        cursor.execute(f"INSERT INTO {rows} VALUES (1, 0), (2, 0)")
        cursor.execute(f"CREATE TABLE {ballast} (id INT PRIMARY KEY)")
    yield rows, ballast
    with app_connection(settings, settings.mariadb_database) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP TABLE {rows}, {ballast}")


@pytest.fixture
def engine(settings: StackSettings) -> Iterator[Engine]:
    engine = create_engine(
        database_url(settings, settings.mariadb_database), isolation_level="READ COMMITTED"
    )
    yield engine
    engine.dispose()


def test_a_deadlock_victim_runs_again_and_commits(
    settings: StackSettings,
    engine: Engine,
    tables: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows, ballast = tables
    other = app_connection(settings, settings.mariadb_database, autocommit=False)
    other_failed: list[BaseException] = []
    attempts: list[int] = []

    def close_the_cycle() -> None:
        """Row 1, held by the first run, which holds it while it asks for row 2, held here: a
        cycle whichever of the two requests comes first."""
        try:
            with other.cursor() as cursor:
                cursor.execute(f"UPDATE {rows} SET v = v + 10 WHERE id = 1")
            other.commit()
        except BaseException as error:  # reported by the test
            other_failed.append(error)

    closer = threading.Thread(target=close_the_cycle)

    @retry_deadlock
    def work() -> str:
        attempts.append(1)
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE {rows} SET v = v + 1 WHERE id = 1"))
            if len(attempts) == 1:
                closer.start()
            conn.execute(text(f"UPDATE {rows} SET v = v + 1 WHERE id = 2"))
        return "committed"

    try:
        with other.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {ballast} VALUES (%s)", [(i,) for i in range(50)])
            cursor.execute(f"UPDATE {rows} SET v = v + 10 WHERE id = 2")
        with caplog.at_level(logging.WARNING, logger="booking_app.db"):
            assert work() == "committed"
        closer.join(timeout=60)
    finally:
        other.close()
    assert not other_failed, other_failed
    assert len(attempts) == 2, "the victim ran exactly twice"
    assert [r.getMessage() for r in caplog.records] == ["deadlock victim retried"]
    with app_connection(settings, settings.mariadb_database) as conn, conn.cursor() as cursor:
        cursor.execute(f"SELECT id, v FROM {rows} ORDER BY id")
        assert cursor.fetchall() == ((1, 11), (2, 11)), "both transactions' changes, once each"


def test_a_lock_wait_timeout_is_not_run_again(
    settings: StackSettings, engine: Engine, tables: tuple[str, str]
) -> None:
    rows, _ = tables
    attempts: list[int] = []

    @retry_deadlock
    def work() -> None:
        attempts.append(1)
        with engine.begin() as conn:
            conn.execute(text("SET SESSION innodb_lock_wait_timeout = 1"))
            conn.execute(text(f"UPDATE {rows} SET v = v + 1 WHERE id = 1"))

    holder = app_connection(settings, settings.mariadb_database, autocommit=False)
    try:
        with holder.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {rows} WHERE id = 1 FOR UPDATE")
        with pytest.raises(sa_exc.OperationalError) as raised:
            work()
    finally:
        holder.rollback()
        holder.close()
    assert isinstance(raised.value.orig, pymysql.err.OperationalError)
    assert raised.value.orig.args[0] == 1205
    assert attempts == [1]


def test_every_queue_transaction_runs_again_after_a_deadlock() -> None:
    for work in ("_issue", "_settle", "token_status", "poll_status", "_activate"):
        # functools.wraps keeps the name; the code run is retry_deadlock's wrapper
        assert getattr(waiting_queue, work).__code__.co_name == "retried", work
    assert points.charge.__code__.co_name == "retried"  # charges behind a rolled-back insert


@pytest.mark.parametrize(
    "write",
    [
        keep_alive("0" * 32, datetime(2026, 12, 1), timedelta(seconds=120)),
        finish("0" * 32, datetime(2026, 12, 1)),
    ],
    ids=["status poll keep-alive", "finished user's token"],
)
def test_a_write_by_token_reads_the_token_index_on_a_table_that_looks_empty(
    stack: Stack, settings: StackSettings, write: Update
) -> None:
    """A fresh database's statistics (0-1 rows) made MariaDB pick the status index for
    `token = ? AND status = ?` (CI's deadlock); the write must name the token index itself."""
    database = f"soundcheck_explain_{secrets.token_hex(4)}"
    fresh_database(settings, database)
    try:
        with app_connection(settings, database) as conn, conn.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE queue_tokens LIKE `{settings.mariadb_database}`.queue_tokens"
            )
            cursor.execute(
                "INSERT INTO queue_tokens (token, user_id, status, created_at, expires_at) "
                "VALUES (%s, 'someone', 'WAITING', NOW(), NOW())",
                ("1" * 32,),
            )
            compiled = write.compile(dialect=mysql_pymysql.dialect())
            bound = tuple(compiled.params[name] for name in compiled.positiontup or ())
            cursor.execute(f"EXPLAIN {compiled}", bound)
            plan = cursor.fetchall()
    finally:
        with app_connection(settings) as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE `{database}`")
    assert [row[5] for row in plan] == ["token"], plan  # EXPLAIN's `key` column
