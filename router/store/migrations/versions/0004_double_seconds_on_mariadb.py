"""Epoch times are DOUBLE on MariaDB: its FLOAT is 4 bytes and rounded today's epoch by up to 64 s
(a 120 s lease could end early, a retry move). SQLite's REAL is already 8 bytes."""

from __future__ import annotations

from alembic import op
from sqlalchemy import inspect
from sqlalchemy.dialects.mysql import DOUBLE

revision = "0004"
down_revision = "0003"

# (table, column, nullable): every epoch-seconds column of router/store/tables.py.
SECONDS_COLUMNS = (
    ("webhooks", "received_at", False),
    ("alert_events", "received_at", False),
    ("deliveries", "created_at", False),
    ("deliveries", "accepted_at", False),
    ("deliveries", "next_attempt_at", False),
    ("deliveries", "finished_at", True),
    ("deliveries", "lease_until", True),
    ("target_refs", "updated_at", False),
)


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name not in ("mysql", "mariadb"):
        return
    inspector = inspect(connection)
    for table, column, nullable in SECONDS_COLUMNS:
        (kind,) = [c["type"] for c in inspector.get_columns(table) if c["name"] == column]
        if not isinstance(kind, DOUBLE):
            op.alter_column(
                table, column, type_=DOUBLE(asdecimal=False), existing_nullable=nullable
            )


def downgrade() -> None:
    """Nothing: going back to FLOAT would round the times already stored."""
