"""Deliveries carry their event's priority, and claims walk (state, priority, due, id).

The first release's index on (state, due) made the planner sort the whole queue on each claim,
and a P0 page waited behind a storm of P2/P3 deliveries; it goes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.add_column(
        "deliveries",
        sa.Column("priority", sa.String(4), nullable=False, server_default="P3"),
    )
    op.execute(
        "UPDATE deliveries SET priority = (SELECT alert_events.priority "
        "FROM alert_events WHERE alert_events.id = deliveries.event_id)"
    )
    op.create_index(
        "ix_deliveries_claim", "deliveries", ["state", "priority", "next_attempt_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_claim", table_name="deliveries")
    op.drop_column("deliveries", "priority")
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
