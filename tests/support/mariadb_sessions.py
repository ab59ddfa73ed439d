"""What the stack's MariaDB sees of a database's clients."""

from __future__ import annotations

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection


def connections_on(settings: StackSettings, database: str) -> int:
    """Open connections on `database`, counted from a connection on none (so the database can
    be dropped meanwhile). Every client is the application user, so it sees them all."""
    with app_connection(settings) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s", (database,)
        )
        row = cursor.fetchone()
        return int(row[0]) if row else 0
