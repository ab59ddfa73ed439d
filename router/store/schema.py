"""The schema, made and upgraded by the Alembic revisions in `migrations/`, applied at start.

A store made before the router used Alembic has the tables but no version table: it is stamped
with the revision its columns show, then upgraded like any other.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Not Alembic's default name, so the router's store can share a database with another service's.
VERSION_TABLE = "router_alembic_version"
MIGRATION_LOCK = "router_store_migrations"
MIGRATION_LOCK_SECONDS = 300


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op when it already is)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection, one_migration_at_a_time(connection):
        config.attributes["connection"] = connection
        made_before_alembic = revision_of_unversioned_store(connection)
        if made_before_alembic is not None:
            command.stamp(config, made_before_alembic)
        command.upgrade(config, "head")


@contextmanager
def one_migration_at_a_time(connection: Connection) -> Iterator[None]:
    """The routers of an HA pair share one database and may start together: one migrates, the
    other waits, then finds nothing left to do (MariaDB's DDL is not transactional, so without
    the lock both created the tables and the second failed). SQLite has one router per file."""
    dialect = connection.dialect.name
    if dialect in ("mysql", "mariadb"):
        lock = {"name": MIGRATION_LOCK, "seconds": MIGRATION_LOCK_SECONDS}
        if connection.execute(text("SELECT GET_LOCK(:name, :seconds)"), lock).scalar() != 1:
            raise RuntimeError(
                f"another router has been migrating this store for {MIGRATION_LOCK_SECONDS} s; "
                "see its log, then start this one again"
            )
        try:
            yield
        finally:
            connection.execute(text("SELECT RELEASE_LOCK(:name)"), lock)
        return
    if dialect == "postgresql":  # released with the transaction
        connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": MIGRATION_LOCK}
        )
    yield


def revision_of_unversioned_store(connection: Connection) -> str | None:
    """The revision a store made before Alembic is at (None: versioned, or no store yet)."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    if VERSION_TABLE in tables or "deliveries" not in tables:
        return None
    columns = {column["name"] for column in inspector.get_columns("deliveries")}
    return "0002" if "priority" in columns else "0001"
