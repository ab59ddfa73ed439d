"""The store as the router uses it: transactions (behind the writer gate on SQLite), reads, the
schema brought up to date at start, and the queue's upkeep."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from router.store import statements
from router.store.engine import make_engine, sqlite_file
from router.store.schema import migrate
from router.store.tables import Base, Delivery
from router.store.writer_gate import WriterGate


class Store:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._gate = (
            WriterGate(sqlite_file(self.engine)) if self.engine.dialect.name == "sqlite" else None
        )
        self._ignoring: dict[type[Base], Any] = {}

    def close(self) -> None:
        """Close the idle connections with a goodbye: on MariaDB, a process that exits without
        one leaves an "Aborted connection" warning per connection in its log."""
        self.engine.dispose()

    def create_schema(self) -> None:
        """Bring the schema to the newest Alembic revision (a store made before Alembic too)."""
        migrate(self.engine)

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

    def insert_ignore_many(
        self, session: Session, model: type[Base], rows: list[dict[str, Any]]
    ) -> None:
        """Insert the rows whose unique keys are free; the others are left as they are."""
        if model not in self._ignoring:  # built once per table: building it cost more than running
            self._ignoring[model] = statements.insert_ignoring_duplicates(
                model, self.engine.dialect.name
            )
        session.connection().execute(self._ignoring[model], rows)

    def save_refs(self, session: Session, rows: list[dict[str, Any]]) -> None:
        """What targets gave back (Slack ts, Jira key), inserted or replacing the earlier one for
        the same (target, destination, identity); one statement for many rows."""
        session.connection().execute(self._upsert_refs, rows)

    @cached_property
    def _upsert_refs(self) -> Any:  # built once: it runs under the writer lock
        return statements.upsert_target_refs(self.engine.dialect.name)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(select(1))

    def queue_depth(self) -> dict[str, int]:
        with self.reading() as session:
            rows = session.execute(statements.QUEUE_DEPTH).all()
        return {state: count for state, count in rows}

    def release_leases(self, owner: str) -> int:
        """After a crash, our own earlier leases are ours to retry at once (not after expiry)."""
        with self.session() as session:
            result = session.connection().execute(statements.RELEASE_LEASES, {"b_owner": owner})
            return int(result.rowcount)

    def replay_dead(self, target: str | None = None, ids: list[int] | None = None) -> int:
        """Put dead letters back in the queue; they get a fresh dead-letter clock."""
        with self.session() as session:
            result = session.connection().execute(statements.replay_dead(target, ids, time.time()))
            return int(result.rowcount)

    def dead_letters(self) -> list[Delivery]:
        with self.reading() as session:
            return list(session.scalars(statements.DEAD_LETTERS))
