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


def issue(conn: Connection, limits: QueueLimits, user_id: str, now: datetime) -> Issued:
    """A new WAITING token for `user_id`, activated at once when there is room.

    One read asks for the user's live token, the ACTIVE count and the oldest WAITING id
    together. With room, the queue_state row is locked before the insert, as every change of
    ACTIVE tokens takes it first (see `activate`): the lock order stays the same everywhere."""
    existing, active, oldest = conn.execute(ISSUE_READ, {"user_id": user_id, "now": now}).one()
    if existing is not None:
        return Issued("", int(existing), "", None, None, already_live=True)
    room = active < limits.max_active_tokens
    if room:
        lock_queue_state(conn)
    token = secrets.token_hex(16)
    new_token = {
        "token": token,
        "user_id": user_id,
        "status": WAITING,
        "created_at": now,
        "expires_at": now + timedelta(seconds=limits.waiting_token_ttl_seconds),
    }
    token_id = int(conn.execute(INSERT_TOKEN, new_token).lastrowid)
    if not room:
        return Issued(token, token_id, WAITING, oldest, None)
    done = activate(conn, limits, now)
    oldest = done.oldest_waiting_id
    status = WAITING if oldest is not None and oldest <= token_id else ACTIVE
    return Issued(token, token_id, status, oldest, done)


def lock_queue_state(conn: Connection) -> None:
    conn.execute(select(queue_state.c.id).where(queue_state.c.id == 1).with_for_update())


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
