"""The first schema: concerts, seats, queue tokens, reservations, points, payments, outbox."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.mysql import DATETIME

revision = "0001"
down_revision = None

NOW6 = DATETIME(fsp=6)


def upgrade() -> None:
    op.create_table(
        "concerts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("artist", sa.String(200), nullable=False),
    )
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("concert_id", sa.String(64), sa.ForeignKey("concerts.id"), nullable=False),
        sa.Column("starts_at", sa.DateTime, nullable=False),
        sa.Column("venue", sa.String(200), nullable=False),
        sa.Column("updated_at", NOW6, nullable=False),
    )
    op.create_index("ix_schedules_concert_id", "schedules", ["concert_id"])
    op.create_table(
        "seats",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("schedule_id", sa.String(64), sa.ForeignKey("schedules.id"), nullable=False),
        sa.Column("seat_no", sa.Integer, nullable=False),
        sa.Column("price", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.UniqueConstraint("schedule_id", "seat_no", name="uq_seats_schedule_seat"),
    )
    op.create_table(
        "queue_tokens",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", NOW6, nullable=False),
        sa.Column("activated_at", NOW6),
        sa.Column("expires_at", NOW6),
    )
    op.create_index("ix_queue_tokens_status_id", "queue_tokens", ["status", "id"])
    op.create_index("ix_queue_tokens_user_status", "queue_tokens", ["user_id", "status"])
    op.create_table(
        "queue_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last_activation_at", NOW6),
    )
    op.execute("INSERT INTO queue_state (id) VALUES (1)")
    op.create_table(
        "reservations",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("seat_id", sa.BigInteger, sa.ForeignKey("seats.id"), nullable=False),
        sa.Column("schedule_id", sa.String(64), nullable=False),
        sa.Column("concert_id", sa.String(64), nullable=False),
        sa.Column("seat_no", sa.Integer, nullable=False),
        sa.Column("price", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", NOW6, nullable=False),
        sa.Column("expires_at", NOW6, nullable=False),
        sa.Column("active_seat_id", sa.BigInteger, unique=True),
    )
    op.create_index("ix_reservations_user_id", "reservations", ["user_id"])
    op.create_index("ix_reservations_status_expires", "reservations", ["status", "expires_at"])
    op.create_table(
        "user_points",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("balance", sa.BigInteger, nullable=False),
        sa.Column("updated_at", NOW6, nullable=False),
        sa.CheckConstraint("balance >= 0", name="ck_user_points_balance_not_negative"),
    )
    op.create_table(
        "point_history",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("delta", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(64)),
        sa.Column("created_at", NOW6, nullable=False),
    )
    op.create_index("ix_point_history_user_id", "point_history", ["user_id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "reservation_id",
            sa.BigInteger,
            sa.ForeignKey("reservations.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(100), unique=True),
        sa.Column("created_at", NOW6, nullable=False),
    )
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("event_key", sa.String(100), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", NOW6, nullable=False),
        sa.Column("published_at", NOW6),
    )
    op.create_index("ix_outbox_events_published_at", "outbox_events", ["published_at"])
    op.create_table(
        "data_platform_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("received_at", NOW6, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "data_platform_events",
        "outbox_events",
        "payments",
        "point_history",
        "user_points",
        "reservations",
        "queue_state",
        "queue_tokens",
        "seats",
        "schedules",
        "concerts",
    ):
        op.drop_table(table)
