"""Alembic environment: runs online against the connection `router.store.schema` hands over."""

from __future__ import annotations

from alembic import context

from router.store.schema import VERSION_TABLE
from router.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
