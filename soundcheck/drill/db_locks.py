"""Plan FP#2, the connection pool emptied by long transactions: direct MariaDB sessions lock the
rows the service's requests need (every seat, the queue's state row, and the points rows of the
drill's crowd, inserted in the open transaction) and keep their transactions open, so those
requests wait on row locks holding pooled connections and threads. The repair rolls the
sessions back (idempotent; a drill process that dies closes them too), and the crowd's points
rows, never committed, go with them."""

from __future__ import annotations

from typing import Any

import pymysql

from soundcheck.drill.actions import DrillContext
from soundcheck.drill.definition import DrillError
from soundcheck.stack.parts.mariadb import app_connection

HELD: list[pymysql.connections.Connection] = []  # the open transactions of this run
LOCKS = (
    "SELECT id FROM seats FOR UPDATE",
    "SELECT id FROM queue_state WHERE id = 1 FOR UPDATE",
)


def hold_row_locks(context: DrillContext) -> str:
    """Open a transaction that locks every seat and the queue's state row, and keep it open."""
    settings = context.stack.settings
    conn = app_connection(settings, settings.mariadb_database, autocommit=False)
    HELD.append(conn)
    with conn.cursor() as cursor:
        locked = sum(cursor.execute(statement) for statement in LOCKS)
    return f"a session holds {locked} row lock(s) in an open transaction"


def hold_points_rows(user_ids: list[str]) -> int:
    """In the open transaction `hold_row_locks` keeps: a points row for each of `user_ids`,
    inserted and never committed, so the service's charges of those users wait on its lock."""
    if not HELD:
        raise DrillError("No session holds the row locks: run hold-row-locks first.")
    with HELD[-1].cursor() as cursor:
        return int(
            cursor.executemany(
                "INSERT INTO user_points (user_id, balance, updated_at) "
                "VALUES (%s, 0, UTC_TIMESTAMP(6))",
                [(user_id,) for user_id in user_ids],
            )
            or 0
        )


def release_row_locks(context: DrillContext) -> str:
    released = 0
    while HELD:
        conn: Any = HELD.pop()
        try:
            conn.rollback()
            conn.close()
            released += 1
        except pymysql.MySQLError:
            continue  # already gone: its locks went with it
    return f"{released} session(s) rolled back"
