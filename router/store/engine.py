"""Connecting to the store: SQLite by default (WAL, one file), any SQLAlchemy URL for a shared
database when two routers run as an HA pair."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_SECONDS = 15


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, a busy timeout and full fsync so an ack means on disk.

    The busy timeout is 15 s unless the URL says otherwise (`sqlite:///router.db?timeout=2`)."""
    if url.startswith("sqlite"):
        connect_args: dict[str, Any] = {"check_same_thread": False}
        if "timeout" not in make_url(url).query:
            connect_args["timeout"] = BUSY_TIMEOUT_SECONDS
        engine = create_engine(url, connect_args=connect_args)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None in memory or for other databases)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(str(engine.url.database)).resolve()
