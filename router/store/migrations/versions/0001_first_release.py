"""The first release's schema: webhooks, alert events, deliveries (claimed by state and due time)
and target references."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("group_key", sa.Text, nullable=False),
        sa.Column("receiver", sa.String(1024), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("alerts", sa.Integer, nullable=False),
        sa.Column("truncated_alerts", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("starts_at", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("alertname", sa.String(255), nullable=False),
        sa.Column("priority", sa.String(4), nullable=False),
        sa.Column("group_key", sa.Text, nullable=False),
        sa.Column("external_url", sa.Text, nullable=False),
        sa.Column("alert", sa.Text, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("webhook_id", sa.Integer, sa.ForeignKey("webhooks.id"), nullable=False),
        sa.UniqueConstraint("fingerprint", "starts_at", "status"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(255), nullable=False),
        sa.Column("identity", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("route", sa.Text, nullable=False),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("alert_events.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("accepted_at", sa.Float, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        sa.Column("lease_until", sa.Float, nullable=True),
        sa.Column("in_flight", sa.Boolean, nullable=False),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_deliveries_thread", "deliveries", ["target", "destination", "identity"])
    op.create_table(
        "target_refs",
        sa.Column("target", sa.String(16), primary_key=True),
        sa.Column("destination", sa.String(255), primary_key=True),
        sa.Column("identity", sa.String(128), primary_key=True),
        sa.Column("ref", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("target_refs", "deliveries", "alert_events", "webhooks"):
        op.drop_table(table)
