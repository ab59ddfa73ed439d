"""The durable store: webhooks as received, alert events, planned deliveries and target references.

SQLite by default (WAL, one file); any SQLAlchemy URL for a shared database when two routers run
as an HA pair. Unique keys make every step idempotent: an alert event is stored once per
(fingerprint, start, status) and a delivery once per (target, destination, alert, action, start),
however many times Alertmanager (or its HA twin) sends the same notification.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
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
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects.mysql import LONGTEXT
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

PENDING, DELIVERED, GIVEN_UP, DEAD = "pending", "delivered", "given_up", "dead"
# A whole webhook body or alert: TEXT holds 64 KB on MariaDB, and a larger one (which the body
# limit lets through) was refused with a 503 that Alertmanager retried for ever.
LongText = Text().with_variant(LONGTEXT(), "mysql", "mariadb")
# Columns made TEXT by stores older than LongText, widened at start.
LONG_TEXT_COLUMNS = (("webhooks", "body"), ("alert_events", "alert"))


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
    received_at: Mapped[float] = mapped_column(Float)
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


class WriterGate:
    """SQLite has one writer, and webhooks must not wait behind the delivery worker.

    Writers queue here, which is far faster than SQLite's busy handler (it sleeps and polls).
    While a webhook commit waits, no new worker transaction starts, so an answer to Alertmanager
    waits for at most the one worker transaction already under way. Threads of one process queue
    on a lock; processes (the webhook's and the delivery worker's) on two `flock`s beside the
    database file: `.writer` is held while writing, `.urgent` while a webhook waits for `.writer`.
    """

    def __init__(self, database: Path | None) -> None:
        self._writer = threading.Lock()
        self._urgent = 0
        self._calm = threading.Condition()
        self._files: tuple[int, int] | None = None
        if database is not None:
            self._files = (
                os.open(f"{database}.writer", os.O_RDWR | os.O_CREAT, 0o600),
                os.open(f"{database}.urgent", os.O_RDWR | os.O_CREAT, 0o600),
            )

    @contextmanager
    def hold(self, urgent: bool) -> Iterator[None]:
        if urgent:
            with self._calm:
                self._urgent += 1
            try:
                self._writer.acquire()
            finally:
                with self._calm:
                    self._urgent -= 1
                    self._calm.notify_all()
        else:
            with self._calm:
                self._calm.wait_for(lambda: self._urgent == 0)
            self._writer.acquire()
        try:
            self._lock_files(urgent)
            try:
                yield
            finally:
                if self._files:
                    fcntl.flock(self._files[0], fcntl.LOCK_UN)
        finally:
            self._writer.release()

    def _lock_files(self, urgent: bool) -> None:
        if self._files is None:
            return
        writer, waiting = self._files
        if urgent:
            fcntl.flock(waiting, fcntl.LOCK_EX)  # tell other processes a webhook waits
            try:
                fcntl.flock(writer, fcntl.LOCK_EX)
            finally:
                fcntl.flock(waiting, fcntl.LOCK_UN)
        else:
            fcntl.flock(waiting, fcntl.LOCK_SH)  # returns once no webhook is waiting
            fcntl.flock(waiting, fcntl.LOCK_UN)
            fcntl.flock(writer, fcntl.LOCK_EX)


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None in memory or for other databases)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(str(engine.url.database)).resolve()


class Store:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._gate = (
            WriterGate(sqlite_file(self.engine)) if self.engine.dialect.name == "sqlite" else None
        )
        self._ignoring: dict[type[Base], Any] = {}

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)
        self._add_delivery_priority()
        self._widen_long_text()

    def _widen_long_text(self) -> None:
        """A MariaDB store made when the body and alert columns were TEXT gets LONGTEXT."""
        if self.engine.dialect.name not in ("mysql", "mariadb"):
            return
        inspector = inspect(self.engine)
        for table, column in LONG_TEXT_COLUMNS:
            (kind,) = [c["type"] for c in inspector.get_columns(table) if c["name"] == column]
            if not isinstance(kind, LONGTEXT):
                with self.engine.begin() as connection:
                    connection.execute(
                        text(f"ALTER TABLE {table} MODIFY COLUMN {column} LONGTEXT NOT NULL")
                    )

    def _add_delivery_priority(self) -> None:
        """A store made before deliveries carried their priority gets the column (filled from
        the events) and its index, and loses the index claims used before (the planner took
        it and sorted the whole queue on each claim); nothing else has changed since."""
        table: Any = Delivery.__table__
        inspector = inspect(self.engine)
        if "ix_deliveries_due" in {i["name"] for i in inspector.get_indexes("deliveries")}:
            on_table = " ON deliveries" if self.engine.dialect.name in ("mysql", "mariadb") else ""
            with self.engine.begin() as connection:
                connection.execute(text(f"DROP INDEX ix_deliveries_due{on_table}"))
        if "priority" in {c["name"] for c in inspector.get_columns("deliveries")}:
            return
        with self.engine.begin() as connection:
            connection.execute(
                text("ALTER TABLE deliveries ADD COLUMN priority VARCHAR(4) NOT NULL DEFAULT 'P3'")
            )
            connection.execute(
                text(
                    "UPDATE deliveries SET priority = (SELECT alert_events.priority "
                    "FROM alert_events WHERE alert_events.id = deliveries.event_id)"
                )
            )
        for index in table.indexes:
            if "priority" in index.columns:
                index.create(self.engine, checkfirst=True)

    @contextmanager
    def session(self, urgent: bool = False) -> Iterator[Session]:
        """One transaction; `urgent` (webhook ingest) goes before the worker's next one."""
        if self._gate is None:
            with self.sessions.begin() as session:
                yield session
            return
        with self._gate.hold(urgent), self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only look (WAL readers never wait for the writer); nothing is committed."""
        with self.sessions() as session:
            yield session

    def _insert_ignoring_duplicates(self, model: type[Base]) -> Any:
        """Built once per table: building it per webhook cost more than running it."""
        if model not in self._ignoring:
            self._ignoring[model] = self._build_insert_ignoring(model)
        return self._ignoring[model]

    def _build_insert_ignoring(self, model: type[Base]) -> Any:
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
        session.connection().execute(self._insert_ignoring_duplicates(model), rows)

    def save_refs(self, session: Session, rows: list[dict[str, Any]]) -> None:
        """What targets gave back (Slack ts, Jira key), inserted or replacing the earlier one for
        the same (target, destination, identity); one statement for many rows."""
        session.connection().execute(self._upsert_refs, rows)

    @cached_property
    def _upsert_refs(self) -> Any:  # built once: it runs under the writer lock
        table: Any = TargetRef.__table__
        dialect = self.engine.dialect.name
        if dialect in ("sqlite", "postgresql"):
            insert_ = sqlite_insert(table) if dialect == "sqlite" else postgresql_insert(table)
            return insert_.on_conflict_do_update(
                index_elements=[table.c.target, table.c.destination, table.c.identity],
                set_={"ref": insert_.excluded.ref, "updated_at": insert_.excluded.updated_at},
            )
        if dialect in ("mysql", "mariadb"):
            upsert = mysql_insert(table)
            return upsert.on_duplicate_key_update(
                ref=upsert.inserted.ref, updated_at=upsert.inserted.updated_at
            )
        raise RuntimeError(f"the router's store does not support {dialect} databases")

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(select(1))

    # --- queue ------------------------------------------------------------------------------
    def queue_depth(self) -> dict[str, int]:
        with self.reading() as session:
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
        with self.reading() as session:
            return list(session.scalars(select(Delivery).where(Delivery.state == DEAD)))
