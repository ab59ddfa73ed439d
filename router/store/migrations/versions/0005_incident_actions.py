"""Incident actions: who acknowledged or silenced an incident from its page, when, and the
silence it made (so the page can expire it and a resolve can end an "until resolved" one)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.mysql import DOUBLE

revision = "0005"
down_revision = "0004"
SECONDS = sa.Float().with_variant(DOUBLE(asdecimal=False), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "incident_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("incident_id", sa.String(128), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("at", SECONDS, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_incident_actions_fingerprint", "incident_actions", ["fingerprint", "at"])


def downgrade() -> None:
    op.drop_index("ix_incident_actions_fingerprint", table_name="incident_actions")
    op.drop_table("incident_actions")
