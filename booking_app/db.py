"""The database engine and its bounded pool: callers wait at most the acquire timeout.

SQLAlchemy's QueuePool bounds connections (size + overflow) and the wait for one
(`pool_timeout`), but not how many callers queue. A semaphore in front bounds the queue, so a
flood beyond it is turned away at once instead of piling up threads (plan 4-2: queueLimit).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc

from booking_app import metrics
from booking_app.errors import DatabaseBusy
from booking_app.instrument import instrument_engine
from booking_app.settings import BookingSettings


def utcnow() -> datetime:
    """Naive UTC, as the DATETIME columns store it."""
    return datetime.now(UTC).replace(tzinfo=None)


class Database:
    def __init__(self, settings: BookingSettings) -> None:
        self.settings = settings
        self.engine: Engine = create_engine(
            settings.database_url.get_secret_value(),
            pool_size=settings.pool_size,
            max_overflow=settings.pool_max_overflow,
            pool_timeout=settings.pool_acquire_timeout_seconds,
            pool_pre_ping=True,
            pool_recycle=3600,
            isolation_level="READ COMMITTED",
            connect_args={"connect_timeout": 3, "read_timeout": 30, "write_timeout": 30},
        )
        capacity = settings.pool_size + settings.pool_max_overflow + settings.pool_queue_limit
        self._admission = threading.BoundedSemaphore(capacity)
        self._in_use = 0
        self._count_lock = threading.Lock()
        instrument_engine(self.engine)
        event.listen(self.engine, "checkout", self._on_checkout)
        event.listen(self.engine, "checkin", self._on_checkin)
        metrics.db_pool_size(settings.pool_size + settings.pool_max_overflow)

    def _on_checkout(self, *_: object) -> None:
        with self._count_lock:
            self._in_use += 1
            metrics.db_pool_in_use(self._in_use)

    def _on_checkin(self, *_: object) -> None:
        with self._count_lock:
            self._in_use -= 1
            metrics.db_pool_in_use(self._in_use)

    @contextmanager
    def _admitted(self) -> Iterator[None]:
        if not self._admission.acquire(blocking=False):
            metrics.db_pool_exhausted()
            raise DatabaseBusy()
        try:
            yield
        finally:
            self._admission.release()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction on a pooled connection; a full pool is a DatabaseBusy (503)."""
        with self._admitted():
            try:
                conn = self.engine.connect()
            except sa_exc.TimeoutError as error:
                metrics.db_pool_exhausted()
                raise DatabaseBusy() from error
            with conn, conn.begin():
                yield conn

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection without an open transaction (autobegin on first use, commit by hand)."""
        with self._admitted():
            try:
                conn = self.engine.connect()
            except sa_exc.TimeoutError as error:
                metrics.db_pool_exhausted()
                raise DatabaseBusy() from error
            with conn:
                yield conn
