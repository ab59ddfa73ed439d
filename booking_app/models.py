"""The tables, as SQLAlchemy Core; the schema itself is created by the Alembic migrations.

The database is the last line of defence: a seat can have only one live reservation
(`reservations.active_seat_id` is unique), a reservation only one payment, an idempotency key
only one payment, a balance never goes below zero (CHECK), an event id is stored once.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.mysql import DATETIME

metadata = MetaData()

concerts = Table(
    "concerts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("artist", String(200), nullable=False),
)

schedules = Table(
    "schedules",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("concert_id", String(64), ForeignKey("concerts.id"), nullable=False, index=True),
    Column("starts_at", DateTime, nullable=False),
    Column("venue", String(200), nullable=False),
    Column("updated_at", DATETIME(fsp=6), nullable=False),
)

seats = Table(
    "seats",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("schedule_id", String(64), ForeignKey("schedules.id"), nullable=False),
    Column("seat_no", Integer, nullable=False),
    Column("price", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # AVAILABLE | HELD | SOLD
    UniqueConstraint("schedule_id", "seat_no", name="uq_seats_schedule_seat"),
)

queue_tokens = Table(
    "queue_tokens",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("user_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # WAITING | ACTIVE | EXPIRED
    Column("created_at", DATETIME(fsp=6), nullable=False),
    Column("activated_at", DATETIME(fsp=6)),
    Column("expires_at", DATETIME(fsp=6)),
    Index("ix_queue_tokens_status_id", "status", "id"),
    Index("ix_queue_tokens_user_status", "user_id", "status"),
)

# One row; activation locks it so that two processes never activate past the maximum.
queue_state = Table(
    "queue_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("last_activation_at", DATETIME(fsp=6)),
)

# A reservation's status (`reservations.status`).
HELD, CONFIRMED, EXPIRED = "HELD", "CONFIRMED", "EXPIRED"

reservations = Table(
    "reservations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", String(64), nullable=False, index=True),
    Column("seat_id", BigInteger, ForeignKey("seats.id"), nullable=False),
    Column("schedule_id", String(64), nullable=False),
    Column("concert_id", String(64), nullable=False),
    Column("seat_no", Integer, nullable=False),
    Column("price", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # HELD | CONFIRMED | EXPIRED
    Column("created_at", DATETIME(fsp=6), nullable=False),
    Column("expires_at", DATETIME(fsp=6), nullable=False),
    # The seat while the reservation is live, NULL once it expired: unique, so the database
    # itself refuses a second live reservation of a seat (NULLs do not collide).
    Column("active_seat_id", BigInteger, unique=True),
    Index("ix_reservations_status_expires", "status", "expires_at"),
)

user_points = Table(
    "user_points",
    metadata,
    Column("user_id", String(64), primary_key=True),
    Column("balance", BigInteger, nullable=False),
    Column("updated_at", DATETIME(fsp=6), nullable=False),
    CheckConstraint("balance >= 0", name="ck_user_points_balance_not_negative"),
)

point_history = Table(
    "point_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("user_id", String(64), nullable=False, index=True),
    Column("delta", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # CHARGE | USE
    Column("reference", String(64)),
    Column("created_at", DATETIME(fsp=6), nullable=False),
)

payments = Table(
    "payments",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "reservation_id", BigInteger, ForeignKey("reservations.id"), nullable=False, unique=True
    ),
    Column("user_id", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("idempotency_key", String(100), unique=True),
    Column("created_at", DATETIME(fsp=6), nullable=False),
)

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("topic", String(100), nullable=False),
    Column("event_key", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", DATETIME(fsp=6), nullable=False),
    Column("published_at", DATETIME(fsp=6), index=True),
)

# What the data-platform consumer delivered: one row per event id, however often it arrives.
data_platform_events = Table(
    "data_platform_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("topic", String(100), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("received_at", DATETIME(fsp=6), nullable=False),
)
