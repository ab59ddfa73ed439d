"""The database engine and its bounded pool: callers wait at most the acquire timeout, and a
session waits at most `lock_wait_timeout_seconds` for a row lock (then the request answers 503).

No ping on every checkout (it was a tenth of a token request's time, one round trip of about
six): a connection is pinged only when it sat idle in the pool longer than
`IDLE_PING_SECONDS`, so one left over from before a MariaDB restart is replaced before use. A
connection that dies in use raises, and SQLAlchemy then drops every older one in the pool.

No rollback when a connection goes back to the pool after its transaction committed (the
pool's default reset sent a ROLLBACK after every COMMIT: one round trip in five of a token
request, for nothing). Anything else (an error, a connection used without a transaction) is
still rolled back on return, so no connection carries a transaction or its locks to the next
caller.

SQLAlchemy's QueuePool bounds connections (size + overflow) and the wait for one
(`pool_timeout`), but not how many callers queue. A semaphore in front bounds the queue, so a
flood beyond it is turned away at once instead of piling up threads (plan 4-2: queueLimit).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, PoolResetState

from booking_app import metrics
from booking_app.errors import DatabaseBusy
from booking_app.instrument import instrument_engine
from booking_app.settings import BookingSettings

IDLE_PING_SECONDS = 10.0
COMMITTED = "committed_before_return"  # in a pool record's info: this checkout ended in COMMIT
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEADLOCK = 1213  # MariaDB ER_LOCK_DEADLOCK: the whole transaction was rolled back

log = logging.getLogger("booking_app.db")
P = ParamSpec("P")
R = TypeVar("R")


def driver_error_code(error: sa_exc.DBAPIError) -> int | None:
    """The MySQL error number of a driver error (1213 deadlock, 1205 lock wait timeout, 2013
    connection lost...), None when the driver gave none."""
    code = getattr(error.orig, "args", (None,))[:1]
    return code[0] if code and isinstance(code[0], int) else None


def retry_deadlock(work: Callable[P, R]) -> Callable[P, R]:
    """Run `work` (one transaction and what follows its commit) again, once, when MariaDB chose
    its transaction as a deadlock's victim. InnoDB rolled that transaction back whole, so the
    second run starts from nothing done; the other transaction of the deadlock went on.

    Under a ticket opening a status poll's keep-alive and an activation deadlocked now and then,
    and the poll answered 503 (seen in CI, 2026-12-01, found from the span's exception event)."""

    @functools.wraps(work)
    def retried(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return work(*args, **kwargs)
        except sa_exc.OperationalError as error:
            if driver_error_code(error) != DEADLOCK:
                raise
            metrics.db_deadlock_retried()
            log.warning(
                "deadlock victim retried",
                extra={"event": "database.deadlock_retried", "code.function": work.__name__},
            )
        return work(*args, **kwargs)

    return retried


def utcnow() -> datetime:
    """Naive UTC, as the DATETIME columns store it."""
    return datetime.now(UTC).replace(tzinfo=None)


def connect_arguments(url: str) -> dict[str, object]:
    """The driver's: timeouts, and no TLS to a MariaDB on this machine. PyMySQL's default
    (TLS if the server offers it) built an SSL context for every new connection; mysqlclient on
    MariaDB Connector/C uses TLS only when asked."""
    arguments: dict[str, object] = {"connect_timeout": 3, "read_timeout": 30, "write_timeout": 30}
    parsed = make_url(url)
    if parsed.get_driver_name() == "pymysql" and parsed.host in LOOPBACK:
        arguments["ssl_disabled"] = True
    return arguments


def _note_checkin(_: object, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _rollback_unless_committed(
    dbapi_connection: Any, record: ConnectionPoolEntry | None, state: PoolResetState
) -> None:
    """The pool's reset on return (in place of its rollback): nothing when `committed` marked
    this checkout's transaction as committed or SQLAlchemy already rolled it back on close, a
    rollback otherwise. A rollback that fails makes the pool discard the connection, as its own
    reset would."""
    marked = record is not None and record.info.pop(COMMITTED, False)
    if marked or state.transaction_was_reset:
        return
    dbapi_connection.rollback()


@contextmanager
def committed(engine: Engine) -> Iterator[Connection]:
    """`engine.begin()`, and the connection goes back to the pool without a rollback after its
    commit. An exception rolls the transaction back (Connection.begin) and the pool's reset
    rolls back again, harmlessly."""
    with engine.connect() as conn:
        with conn.begin():
            yield conn
        _mark_committed(conn)


def _mark_committed(conn: Connection) -> None:
    conn.connection.info[COMMITTED] = True


def _ping_if_idle(engine: Engine) -> Callable[..., None]:
    """A checkout hook: ping a connection that sat idle a while (the driver's own ping, through
    the dialect); a dead one makes the pool open a new one."""

    def ping(_: object, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        connection = proxy.dbapi_connection
        try:
            alive = connection is not None and engine.dialect.do_ping(connection)
        except Exception:
            alive = False
        if not alive:
            raise sa_exc.DisconnectionError("idle connection is dead")

    return ping


def _lock_wait_limit(seconds: int) -> Callable[[Any, object], None]:
    """Every new session waits at most `seconds` for a row lock (MariaDB's default is 50 s: a
    request stuck behind a long transaction held its thread and connection that long)."""

    def on_connect(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # PyMySQL's or mysqlclient's: both close() by hand
        try:
            cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {int(seconds)}")
        finally:
            cursor.close()

    return on_connect


def make_engine(settings: BookingSettings) -> Engine:
    """The engine with the service's pool; bench/plain_token.py makes its own with this too."""
    url = settings.database_url.get_secret_value()
    engine = create_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_max_overflow,
        pool_timeout=settings.pool_acquire_timeout_seconds,
        pool_recycle=3600,
        pool_reset_on_return=None,  # _rollback_unless_committed resets instead
        isolation_level="READ COMMITTED",
        connect_args=connect_arguments(url),
    )
    event.listen(engine, "connect", _lock_wait_limit(settings.lock_wait_timeout_seconds))
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "reset", _rollback_unless_committed)
    event.listen(engine, "checkout", _ping_if_idle(engine))
    return engine


class Database:
    def __init__(self, settings: BookingSettings, serves_requests: bool = True) -> None:
        """`serves_requests`: this pool is one requests wait on (a gunicorn worker's), so its
        size and use count in the pool gauges; the background worker's pool does not, or the
        share in use could never reach what DatabaseConnectionPoolExhausted watches for."""
        self.settings = settings
        self.engine = make_engine(settings)
        capacity = settings.pool_size + settings.pool_max_overflow + settings.pool_queue_limit
        self._admission = threading.BoundedSemaphore(capacity)
        self._in_use = 0
        self._count_lock = threading.Lock()
        instrument_engine(self.engine)
        if serves_requests:
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
            with conn:
                with conn.begin():
                    yield conn
                _mark_committed(conn)

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

    def close(self) -> None:
        """Say goodbye on every idle connection: a process that exits without it leaves MariaDB
        an "Aborted connection" warning per connection (five at each stop of the service)."""
        self.engine.dispose()
