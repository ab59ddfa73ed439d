"""WAITING tokens expire (B12): give the ones issued before this rule an expiry.

Until now a WAITING token had no `expires_at` and waited forever. Those left behind get the
default WAITING lifetime from now (their users, polling, keep them alive as new ones do), so
abandoned ones leave the queue instead of holding it up for good.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # 120 s: the default of BOOKING_WAITING_TOKEN_TTL_SECONDS.
    op.execute(
        "UPDATE queue_tokens SET expires_at = UTC_TIMESTAMP(6) + INTERVAL 120 SECOND "
        "WHERE status = 'WAITING' AND expires_at IS NULL"
    )


def downgrade() -> None:
    op.execute("UPDATE queue_tokens SET expires_at = NULL WHERE status = 'WAITING'")
