"""A whole webhook body or alert is LONGTEXT on MariaDB: TEXT holds 64 KB, and a larger one (which
the body limit lets through) was refused with a 503 that Alertmanager retried for ever. Other
databases' TEXT has no such limit."""

from __future__ import annotations

from alembic import op
from sqlalchemy import inspect
from sqlalchemy.dialects.mysql import LONGTEXT

revision = "0003"
down_revision = "0002"

LONG_TEXT_COLUMNS = (("webhooks", "body"), ("alert_events", "alert"))


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name not in ("mysql", "mariadb"):
        return
    inspector = inspect(connection)
    for table, column in LONG_TEXT_COLUMNS:
        (kind,) = [c["type"] for c in inspector.get_columns(table) if c["name"] == column]
        if not isinstance(kind, LONGTEXT):  # a store made with LONGTEXT before Alembic has it
            op.alter_column(table, column, type_=LONGTEXT(), existing_nullable=False)


def downgrade() -> None:
    """Nothing: narrowing would cut the bodies and alerts already stored."""
