"""Plan FP#2, the connection pool emptied by long transactions: direct MariaDB sessions lock the
rows every reservation needs (the seats, the queue's state row) and keep their transactions
open, so the service's requests wait on row locks holding pooled connections and threads. The
repair rolls the sessions back (idempotent; a drill process that dies closes them too)."""

from __future__ import annotations

from typing import Any

import pymysql

from soundcheck.drill.actions import DrillContext
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
