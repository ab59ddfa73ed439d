"""The durable store: webhooks as received, alert events, planned deliveries and target references.

SQLite by default (WAL, one file); any SQLAlchemy URL for a shared database when two routers run
as an HA pair. Unique keys make every step idempotent: an alert event is stored once per
(fingerprint, start, status) and a delivery once per (target, destination, alert, action, start),
however many times Alertmanager (or its HA twin) sends the same notification.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

PENDING, DELIVERED, GIVEN_UP, DEAD = "pending", "delivered", "given_up", "dead"


class Base(DeclarativeBase):
    pass


class Webhook(Base):
    """Every accepted webhook body, kept as received (for audit and replay of the planning)."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[float] = mapped_column(Float)
    group_key: Mapped[str] = mapped_column(Text)
    receiver: Mapped[str] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16))
    alerts: Mapped[int] = mapped_column(Integer)
    truncated_alerts: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text)


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
    alert: Mapped[str] = mapped_column(Text)  # the alert object as JSON
    received_at: Mapped[float] = mapped_column(Float)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))


class Delivery(Base):
    """One action (trigger / resolve) for one alert at one target and destination."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        Index("ix_deliveries_thread", "target", "destination", "identity"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255))
    target: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(255))
    identity: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    route: Mapped[str] = mapped_column(Text)  # the target's routing entry as JSON
    event_id: Mapped[int] = mapped_column(ForeignKey("alert_events.id"))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    accepted_at: Mapped[float] = mapped_column(Float)
    next_attempt_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    lease_owner: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lease_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    in_flight: Mapped[bool] = mapped_column(Boolean, default=False)


class TargetRef(Base):
    """What a target gave back for an alert (Slack channel + ts, Jira key), kept across restarts."""

    __tablename__ = "target_refs"
    target: Mapped[str] = mapped_column(String(16), primary_key=True)
    destination: Mapped[str] = mapped_column(String(255), primary_key=True)
    identity: Mapped[str] = mapped_column(String(128), primary_key=True)
    ref: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Float)


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, a busy timeout and full fsync so an ack means on disk."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


class Store:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer; queueing our own threads here is far faster than its busy
        # handler, which sleeps and polls (seconds of p99 under concurrent webhooks).
        self._one_writer: threading.RLock | None = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else None
        )

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        if self._one_writer is None:
            with self.sessions.begin() as session:
                yield session
            return
        with self._one_writer, self.sessions.begin() as session:
            yield session

    def _insert_ignoring_duplicates(self, model: type[Base]) -> Any:
        table: Any = model.__table__
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            return sqlite_insert(table).on_conflict_do_nothing()
        if dialect == "postgresql":
            return postgresql_insert(table).on_conflict_do_nothing()
        if dialect in ("mysql", "mariadb"):
            return mysql_insert(table).prefix_with("IGNORE")
        raise RuntimeError(f"the router's store does not support {dialect} databases")

    def insert_ignore_many(
        self, session: Session, model: type[Base], rows: list[dict[str, Any]]
    ) -> None:
        """Insert the rows whose unique keys are free; the others are left as they are."""
        session.execute(self._insert_ignoring_duplicates(model), rows)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(select(1))

    # --- target references ------------------------------------------------------------------
    def put_ref(self, target: str, destination: str, identity: str, ref: dict[str, Any]) -> None:
        with self.session() as session:
            session.merge(
                TargetRef(
                    target=target,
                    destination=destination,
                    identity=identity,
                    ref=json.dumps(ref),
                    updated_at=time.time(),
                )
            )

    # --- queue ------------------------------------------------------------------------------
    def queue_depth(self) -> dict[str, int]:
        with self.session() as session:
            rows = session.execute(
                select(Delivery.state, func.count()).group_by(Delivery.state)
            ).all()
        return {state: count for state, count in rows}

    def release_leases(self, owner: str) -> int:
        """After a crash, our own earlier leases are ours to retry at once (not after expiry)."""
        with self.session() as session:
            result = session.execute(
                update(Delivery)
                .where(Delivery.lease_owner == owner, Delivery.state == PENDING)
                .values(lease_owner=None, lease_until=None)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def replay_dead(self, target: str | None = None, ids: list[int] | None = None) -> int:
        """Put dead letters back in the queue; they get a fresh dead-letter clock."""
        now = time.time()
        statement = update(Delivery).where(Delivery.state == DEAD)
        if target:
            statement = statement.where(Delivery.target == target)
        if ids:
            statement = statement.where(Delivery.id.in_(ids))
        with self.session() as session:
            result = session.execute(
                statement.values(
                    state=PENDING, attempts=0, created_at=now, next_attempt_at=now, last_error=""
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def dead_letters(self) -> list[Delivery]:
        with self.session() as session:
            return list(session.scalars(select(Delivery).where(Delivery.state == DEAD)))
