"""The router's tables: webhooks as received, alert events, planned deliveries, target references.

Unique keys make every step idempotent: an alert event is stored once per (fingerprint, start,
status) and a delivery once per (target, destination, alert, action, start), however many times
Alertmanager (or its HA twin) sends the same notification. The schema itself is made by the
Alembic revisions in `migrations/`; a test checks they build exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.mysql import DOUBLE, LONGTEXT
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

PENDING, DELIVERED, GIVEN_UP, DEAD = "pending", "delivered", "given_up", "dead"
# A whole webhook body or alert: TEXT holds 64 KB on MariaDB, and a larger one (which the body
# limit lets through) was refused with a 503 that Alertmanager retried for ever.
LongText = Text().with_variant(LONGTEXT(), "mysql", "mariadb")
# An epoch time in seconds. MariaDB's FLOAT is 4 bytes: today's epoch would be rounded by up to
# 64 s, enough to end a 120 s lease early or move a retry; DOUBLE keeps microseconds.
Seconds = Float().with_variant(DOUBLE(asdecimal=False), "mysql", "mariadb")


class Base(DeclarativeBase):
    pass


class Webhook(Base):
    """Every accepted webhook body, kept as received (for audit and replay of the planning)."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[float] = mapped_column(Seconds)
    group_key: Mapped[str] = mapped_column(Text)
    receiver: Mapped[str] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16))
    alerts: Mapped[int] = mapped_column(Integer)
    truncated_alerts: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(LongText)


class AlertEvent(Base):
    """One state change of one alert: (fingerprint, startsAt, status) is stored exactly once."""

    __tablename__ = "alert_events"
    __table_args__ = (UniqueConstraint("fingerprint", "starts_at", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    alertname: Mapped[str] = mapped_column(String(255))
    priority: Mapped[str] = mapped_column(String(4))
    group_key: Mapped[str] = mapped_column(Text)
    external_url: Mapped[str] = mapped_column(Text)
    alert: Mapped[str] = mapped_column(LongText)  # the alert object as JSON
    received_at: Mapped[float] = mapped_column(Seconds)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))


class Delivery(Base):
    """One action (trigger / resolve) for one alert at one target and destination."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        # Walked in claim order, so a claim reads a few rows however long the queue is.
        Index("ix_deliveries_claim", "state", "priority", "next_attempt_at", "id"),
        Index("ix_deliveries_thread", "target", "destination", "identity"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    target: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(255))
    identity: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(4), default="P3")  # the event's, for claims
    route: Mapped[str] = mapped_column(Text)  # the target's routing entry as JSON
    event_id: Mapped[int] = mapped_column(ForeignKey("alert_events.id"))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Seconds)
    accepted_at: Mapped[float] = mapped_column(Seconds)
    next_attempt_at: Mapped[float] = mapped_column(Seconds)
    finished_at: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    lease_owner: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lease_until: Mapped[float | None] = mapped_column(Seconds, nullable=True)
    in_flight: Mapped[bool] = mapped_column(Boolean, default=False)


class TargetRef(Base):
    """What a target gave back for an alert (Slack channel + ts, Jira key), kept across restarts."""

    __tablename__ = "target_refs"
    target: Mapped[str] = mapped_column(String(16), primary_key=True)
    destination: Mapped[str] = mapped_column(String(255), primary_key=True)
    identity: Mapped[str] = mapped_column(String(128), primary_key=True)
    ref: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Seconds)


class IncidentAction(Base):
    """What a person did on an incident page (acknowledge, silence, expire): who, when, and
    what it made (a silence id), once per idempotency key however often the button is pressed."""

    __tablename__ = "incident_actions"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_incident_actions_fingerprint", "fingerprint", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    incident_id: Mapped[str] = mapped_column(String(128))
    fingerprint: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # acknowledge | silence | expire
    actor: Mapped[str] = mapped_column(String(255))
    at: Mapped[float] = mapped_column(Seconds)
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON: silence id, ends_at, ...
