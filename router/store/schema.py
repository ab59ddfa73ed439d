"""The schema, made and upgraded by the Alembic revisions in `migrations/`, applied at start.

A store made before the router used Alembic has the tables but no version table: it is stamped
with the revision its columns show, then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Not Alembic's default name, so the router's store can share a database with another service's.
VERSION_TABLE = "router_alembic_version"


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (no-op when it already is)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        made_before_alembic = revision_of_unversioned_store(connection)
        if made_before_alembic is not None:
            command.stamp(config, made_before_alembic)
        command.upgrade(config, "head")


def revision_of_unversioned_store(connection: Connection) -> str | None:
    """The revision a store made before Alembic is at (None: versioned, or no store yet)."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    if VERSION_TABLE in tables or "deliveries" not in tables:
        return None
    columns = {column["name"] for column in inspector.get_columns("deliveries")}
    return "0002" if "priority" in columns else "0001"
