"""Alembic environment: runs online against the connection `booking_app.schema` hands over."""

from __future__ import annotations

from alembic import context

from booking_app.models import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
