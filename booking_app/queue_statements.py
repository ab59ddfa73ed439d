"""The waiting queue's statements on one open transaction: issuing a token and activating the
oldest WAITING ones. No metrics, no log lines: waiting_queue.py counts after the commit, and
bench/plain_token.py runs these very statements without the service around them.

A token request is the hottest request of a ticket opening (plan scenario 1), so in the common
case (the queue is full) it is three round trips: one read of everything it needs, the insert,
the commit. Its two statements are built once, at import, with bound parameters: built per
request, SQLAlchemy spent ~0.3 ms constructing them and ~0.2 ms more deriving their cache key,
where a statement built once keeps its key (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Update, bindparam, func, insert, select, update

from booking_app.models import queue_state, queue_tokens
from booking_app.settings import BookingSettings

WAITING, ACTIVE, EXPIRED = "WAITING", "ACTIVE", "EXPIRED"
# A write to one token by its value reads through the token's unique index, whatever the
# optimizer's statistics say. Seeing a table of 0-1 rows (a fresh database's statistics), MariaDB
# chose the status index for `token = ? AND status = ?`: the write then locked every WAITING
# entry up to its own, in the order the activation's expiry scan locks them from the other
# side, and a status poll deadlocked with it (CI, 2026-12-01; MariaDB's deadlock dump).
UNIQUE_INDEX_HINT = "FORCE INDEX (token)"


@dataclass(frozen=True)
class QueueLimits:
    max_active_tokens: int
    active_token_ttl_seconds: float
    waiting_token_ttl_seconds: float

    @classmethod
    def of(cls, settings: BookingSettings) -> QueueLimits:
        return cls(
            settings.max_active_tokens,
            settings.active_token_ttl_seconds,
            settings.waiting_token_ttl_seconds,
        )


@dataclass(frozen=True)
class Activation:
    """What one activation did, for the metrics and the log line after the commit."""

    activated: int
    expired: dict[str, int]
    waiting: int
    active: int
    oldest_waiting_id: int | None


@dataclass(frozen=True)
class Issued:
    """A new token, or the live one the user already holds (`already_live`, nothing written)."""

    token: str
    token_id: int
    status: str
    oldest_waiting_id: int | None
    activation: Activation | None
    already_live: bool = False
    # It saw room: it took the queue_state lock or found it taken, so `settle` runs after it.
    saw_room: bool = False


def live(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """WAITING or ACTIVE and not past its expiry (the timer may not have marked it yet)."""
    return queue_tokens.c.status.in_((WAITING, ACTIVE)) & (queue_tokens.c.expires_at >= now)


def _count_of(status: str) -> ColumnElement[int]:
    return (
        select(func.count())
        .select_from(queue_tokens)
        .where(queue_tokens.c.status == status)
        .scalar_subquery()
    )


def _oldest_waiting() -> ColumnElement[int]:
    return (
        select(func.min(queue_tokens.c.id))
        .where(queue_tokens.c.status == WAITING)
        .scalar_subquery()
    )


def position(token_id: int, status: str, oldest_waiting_id: int | None) -> int:
    """1 for the next token to activate: activation takes the oldest WAITING token first, so
    the distance to the oldest of them is the place (an upper bound: a token that expired while
    waiting counts for the ones behind it until the head of the queue passes it)."""
    if status != WAITING:
        return 0
    oldest = token_id if oldest_waiting_id is None else min(oldest_waiting_id, token_id)
    return token_id - oldest + 1


# The token request's statements (see the module's docstring): parameters user_id and now.
ISSUE_READ = select(
    select(queue_tokens.c.id)
    .where(queue_tokens.c.user_id == bindparam("user_id"), live(bindparam("now")))
    .limit(1)
    .scalar_subquery(),
    _count_of(ACTIVE),
    _oldest_waiting(),
)
INSERT_TOKEN = insert(queue_tokens)
# Read again under the queue_state lock, once got (a token request only tries it): the first
# read took no lock, and under READ COMMITTED this one sees every activation committed before
# it, so no other holder's activations are counted short.
QUEUE_READ = select(_count_of(ACTIVE), _oldest_waiting())


def issue(conn: Connection, limits: QueueLimits, user_id: str, now: datetime) -> Issued:
    """A new token for `user_id`: WAITING, or ACTIVE at once when there is room.

    One read asks for the user's live token, the ACTIVE count and the oldest WAITING id
    together. With room, the request tries the queue_state row lock, which every change of
    ACTIVE tokens takes first (see `activate`), so the lock order stays the same everywhere.

    It only tries: every request of a ticket opening's first second sees room (none of the
    first activations has committed yet), and waiting for the lock in turn piled them up for
    seconds, toward the lock wait timeout on a busy machine. A request that finds the lock taken
    inserts its token WAITING and commits; `settle`, run after the commit, activates it (see
    there why none is left behind). A request that gets the lock, with room and nobody
    WAITING under it, inserts its token ACTIVE: the lock, one read, the insert. Otherwise it
    runs the whole activation (expiry sweeps, FIFO pick) behind its insert."""
    existing, active, oldest = conn.execute(ISSUE_READ, {"user_id": user_id, "now": now}).one()
    if existing is not None:
        return Issued("", int(existing), "", None, None, already_live=True)
    room = active < limits.max_active_tokens
    if not room or not lock_queue_state(conn, wait=False):
        token, token_id = _insert(conn, limits, user_id, now)
        return Issued(token, token_id, WAITING, oldest, None, saw_room=room)
    active, oldest = conn.execute(QUEUE_READ).one()
    if oldest is None and active < limits.max_active_tokens:
        return _issue_active(conn, limits, user_id, now, int(active))
    token, token_id = _insert(conn, limits, user_id, now)
    done = activate(conn, limits, now)
    oldest = done.oldest_waiting_id
    return Issued(token, token_id, _status(token_id, oldest), oldest, done, saw_room=True)


def _status(token_id: int, oldest_waiting_id: int | None) -> str:
    """A token's status just after an activation: WAITING unless no older one waits."""
    waiting = oldest_waiting_id is not None and oldest_waiting_id <= token_id
    return WAITING if waiting else ACTIVE


def settled(issued: Issued, last: Activation | None) -> tuple[str, int | None]:
    """The new token's status and the oldest WAITING id once `settle` ran, `last` being the
    last activation it ran (None: it ran none, and the token is as `issue` left it)."""
    if last is None or issued.status != WAITING:
        return issued.status, issued.oldest_waiting_id
    return _status(issued.token_id, last.oldest_waiting_id), last.oldest_waiting_id


def _insert(
    conn: Connection, limits: QueueLimits, user_id: str, now: datetime, status: str = WAITING
) -> tuple[str, int]:
    """A new token (its value and id), WAITING or ACTIVE from now."""
    token = secrets.token_hex(16)
    lifetime = (
        limits.active_token_ttl_seconds if status == ACTIVE else limits.waiting_token_ttl_seconds
    )
    new_token = {
        "token": token,
        "user_id": user_id,
        "status": status,
        "created_at": now,
        "activated_at": now if status == ACTIVE else None,
        "expires_at": now + timedelta(seconds=lifetime),
    }
    return token, int(conn.execute(INSERT_TOKEN, new_token).lastrowid)


def _issue_active(
    conn: Connection, limits: QueueLimits, user_id: str, now: datetime, active: int
) -> Issued:
    """The new token inserted ACTIVE: the caller holds the queue_state lock and saw room and
    no WAITING token under it, so no one is passed over."""
    token, token_id = _insert(conn, limits, user_id, now, ACTIVE)
    done = Activation(1, {ACTIVE: 0, WAITING: 0}, 0, active + 1, None)
    return Issued(token, token_id, ACTIVE, None, done, saw_room=True)


def settle(
    transaction: Callable[[], AbstractContextManager[Connection]],
    limits: QueueLimits,
    clock: Callable[[], datetime],
) -> Iterator[Activation]:
    """After a transaction that saw room (a token request) or held the queue_state lock (an
    activation) committed: while there is room and a WAITING token, try the lock and activate,
    one transaction each (`transaction()` opens one); yields each activation after its commit.
    Stops when there is no room, nobody WAITING, or the lock is taken.

    Why no token is left WAITING with room: a request that found the lock taken runs this
    after its token committed, so it either gets the lock and activates the token, or finds
    the lock held by a transaction that will itself run this after its commit (every holder
    does, this loop's own transactions too: it reads again after each), and read the
    committed token then (READ COMMITTED: each statement sees every commit before it).

    It ends: a round that goes on found a WAITING token and room, and its activation takes
    the oldest WAITING tokens after sweeping the expired ones, so the next round only goes
    on for a token committed meanwhile."""
    while True:
        with transaction() as conn:
            active, oldest = conn.execute(QUEUE_READ).one()
            if oldest is None or active >= limits.max_active_tokens:
                return
            if not lock_queue_state(conn, wait=False):
                return
            done = activate(conn, limits, clock())
        yield done


LOCK_QUEUE_STATE = select(queue_state.c.id).where(queue_state.c.id == 1).with_for_update()
TRY_LOCK_QUEUE_STATE = (
    select(queue_state.c.id).where(queue_state.c.id == 1).with_for_update(skip_locked=True)
)


def lock_queue_state(conn: Connection, wait: bool = True) -> bool:
    """The queue_state row lock; with `wait=False`, only if no one holds it (SKIP LOCKED):
    False when another transaction does."""
    found = conn.execute(LOCK_QUEUE_STATE if wait else TRY_LOCK_QUEUE_STATE).first()
    return found is not None


def keep_alive(token: str, now: datetime, lifetime: timedelta) -> Update:
    """A WAITING token's expiry moved to `now + lifetime`, once a quarter of its lifetime has
    passed since it last moved (a poll every half second writes now and then, not every time)."""
    return (
        update(queue_tokens)
        .with_hint(UNIQUE_INDEX_HINT, dialect_name="mysql")
        .where(
            queue_tokens.c.token == token,
            queue_tokens.c.status == WAITING,
            queue_tokens.c.expires_at >= now,
            queue_tokens.c.expires_at < now + lifetime * 0.75,
        )
        .values(expires_at=now + lifetime)
    )


def finish(token: str, now: datetime) -> Update:
    """The ACTIVE token of a user who is done (a completed payment) expired now."""
    return (
        update(queue_tokens)
        .with_hint(UNIQUE_INDEX_HINT, dialect_name="mysql")
        .where(queue_tokens.c.token == token, queue_tokens.c.status == ACTIVE)
        .values(status=EXPIRED, expires_at=now)
    )


def activate(
    conn: Connection, limits: QueueLimits, now: datetime, finished: str | None = None
) -> Activation:
    """Expire overdue tokens, ACTIVE and WAITING (and `finished`, a user's who is done), then
    activate the oldest WAITING ones up to the maximum. The caller holds the queue_state lock.

    Overdue WAITING tokens go before the activation picks any: a token whose client left would
    otherwise take an ACTIVE place nobody uses until its ACTIVE lifetime ends."""
    if finished is not None:
        conn.execute(finish(finished, now))
    expired = {
        status: conn.execute(
            update(queue_tokens)
            .where(queue_tokens.c.status == status, queue_tokens.c.expires_at < now)
            .values(status=EXPIRED)
        ).rowcount
        for status in (ACTIVE, WAITING)
    }
    room = limits.max_active_tokens - int(conn.execute(select(_count_of(ACTIVE))).scalar_one())
    ids: list[int] = []
    if room > 0:
        ids = list(
            conn.execute(
                select(queue_tokens.c.id)
                .where(queue_tokens.c.status == WAITING)
                .order_by(queue_tokens.c.id)
                .limit(room)
            ).scalars()
        )
    if ids:
        conn.execute(
            update(queue_tokens)
            .where(queue_tokens.c.id.in_(ids), queue_tokens.c.status == WAITING)
            .values(
                status=ACTIVE,
                activated_at=now,
                expires_at=now + timedelta(seconds=limits.active_token_ttl_seconds),
            )
        )
    conn.execute(update(queue_state).where(queue_state.c.id == 1).values(last_activation_at=now))
    waiting, active, oldest = conn.execute(
        select(_count_of(WAITING), _count_of(ACTIVE), _oldest_waiting())
    ).one()
    return Activation(len(ids), expired, int(waiting), int(active), oldest)
