"""The waiting queue (B1): tokens wait, at most `max_active_tokens` are ACTIVE at a time, and a
token is its user's identity (B12; the checks on who calls are in queue_identity.py).

Activation runs on a timer in the worker and, at once, on the events that free a place: a
completed payment, an expired token or reservation (plan 4-5). It locks the single `queue_state`
row, so activations in several processes never overshoot the maximum between them.

A token is handed out once, to whoever asked for the user first: giving a live token again to
anyone naming the user would make it no proof of identity at all. A WAITING token lives
`waiting_token_ttl_seconds` after it was issued or last polled, so a client that left stops
holding the queue up, while one that polls `GET /queue/status` keeps its place.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, func, select
from sqlalchemy import exc as sa_exc

from booking_app import metrics
from booking_app.db import retry_deadlock, utcnow
from booking_app.errors import ApiError, NotFound, TokenAlreadyIssued
from booking_app.models import queue_tokens
from booking_app.queue_statements import (
    ACTIVE,
    EXPIRED,
    WAITING,
    Activation,
    Issued,
    QueueLimits,
    activate,
    issue,
    keep_alive,
    lock_queue_state,
    position,
    settle,
    settled,
)
from booking_app.services import Services

log = logging.getLogger("booking_app.queue")

# What `secrets.token_hex(16)` makes: anything else is refused without asking the database.
TOKEN_PATTERN = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class TokenView:
    token: str
    user_id: str
    status: str
    position: int

    def as_json(self) -> dict[str, object]:
        return {"tokenValue": self.token, "status": self.status, "position": self.position}


def _position(conn: Connection, token_id: int, status: str) -> int:
    if status != WAITING:
        return 0
    oldest = conn.execute(
        select(func.min(queue_tokens.c.id)).where(queue_tokens.c.status == WAITING)
    ).scalar()
    return position(token_id, status, oldest)


def issue_token(svc: Services, user_id: str) -> TokenView:
    """A new token for a user without a live one, activated now if there is room.

    One transaction, three round trips when the queue is full (the new token waits), because a
    ticket opening sends this request more than any other (plan scenario 1); see
    queue_statements.issue. A request that saw room then settles the queue (`settle_queue`), so
    a token that found the activation lock taken is activated before its answer, or by the
    transaction holding that lock; its answer says WAITING only in the second case, and its
    next GET /queue/status says ACTIVE."""
    settings = svc.settings
    issued = _issue(svc, user_id)
    if issued.already_live:
        raise TokenAlreadyIssued(
            f"User {user_id!r} already holds a live queue token: keep sending that one in "
            "X-Queue-Token. A token is given out only once; a lost WAITING token expires "
            f"{settings.waiting_token_ttl_seconds:.0f} s after its last GET /queue/status "
            f"(an ACTIVE one {settings.active_token_ttl_seconds:.0f} s after activation), "
            "then ask again."
        )
    if issued.activation is not None:
        _count_activation(issued.activation, "issue")
    status, oldest = settled(issued, settle_queue(svc) if issued.saw_room else None)
    return TokenView(issued.token, user_id, status, position(issued.token_id, status, oldest))


@retry_deadlock
def _issue(svc: Services, user_id: str) -> Issued:
    with svc.db.transaction() as conn:
        return issue(conn, QueueLimits.of(svc.settings), user_id, utcnow())


def settle_queue(svc: Services) -> Activation | None:
    """queue_statements.settle, after a transaction that held the activation lock or found it
    taken: the last activation it ran (None when it ran none, or failed).

    Best effort, after a commit: a token request's token, a payment, are done by then, and
    must not answer 503 for what follows (the client would not learn its token). A failure (no
    free connection, the database gone) is logged; a token it would have activated waits for
    the next activation (a payment, an expiry, the worker's timer)."""
    try:
        return _settle(svc)
    except (ApiError, sa_exc.SQLAlchemyError) as error:
        log.warning(
            "queue not settled",
            extra={"event": "queue.settle_failed", "error.type": type(error).__name__},
        )
        return None


@retry_deadlock
def _settle(svc: Services) -> Activation | None:
    last = None
    for done in settle(svc.db.transaction, QueueLimits.of(svc.settings), utcnow):
        _count_activation(done, "settle")
        last = done
    return last


def _view(conn: Connection, token: str) -> TokenView:
    row = conn.execute(
        select(
            queue_tokens.c.id,
            queue_tokens.c.user_id,
            queue_tokens.c.status,
            queue_tokens.c.expires_at,
        ).where(queue_tokens.c.token == token)
    ).first()
    if row is None:
        raise NotFound("This queue token does not exist. Ask for a new one: POST /queue/token.")
    status = row.status
    if status != EXPIRED and row.expires_at is not None and row.expires_at < utcnow():
        status = EXPIRED  # the timer marks it soon; never report it as usable meanwhile
    return TokenView(token, row.user_id, status, _position(conn, row.id, status))


def _refuse_malformed(token: str) -> None:
    if not TOKEN_PATTERN.fullmatch(token):
        raise NotFound("This queue token does not exist. Ask for a new one: POST /queue/token.")


@retry_deadlock
def token_status(svc: Services, token: str) -> TokenView:
    _refuse_malformed(token)
    with svc.db.transaction() as conn:
        return _view(conn, token)


@retry_deadlock
def poll_status(svc: Services, token: str) -> TokenView:
    """A token's status, as its user polls it; polling keeps a WAITING token alive
    (queue_statements.keep_alive)."""
    _refuse_malformed(token)
    lifetime = timedelta(seconds=svc.settings.waiting_token_ttl_seconds)
    with svc.db.transaction() as conn:
        conn.execute(keep_alive(token, utcnow(), lifetime))
        return _view(conn, token)


def expire_token(svc: Services, token: str) -> None:
    """The user is done (payment completed): free the place and let the next one in, in the
    activation's own transaction (see `activate_tokens`)."""
    activate_tokens(svc, trigger="payment_completed", finished=token)


def activate_tokens(
    svc: Services, trigger: str, only_if_room: bool = False, finished: str | None = None
) -> int:
    """Expire overdue tokens and activate the oldest WAITING ones up to the maximum
    (queue_statements.activate), after the queue_state row lock; then settle the queue, since a
    token request may have found the lock taken meanwhile (queue_statements.settle).

    Every change of ACTIVE tokens happens after that lock: expiring a finished user's token in a
    transaction of its own locked its row by token and then its status index entry, while the
    activation's scan locks status entries and then rows; payments finishing together
    deadlocked (3-4 of 120 in a demo ticket opening, each answered 503)."""
    done = _activate(svc, only_if_room, finished)
    if done is None:
        return 0
    _count_activation(done, trigger)
    settle_queue(svc)
    return done.activated


@retry_deadlock
def _activate(svc: Services, only_if_room: bool, finished: str | None) -> Activation | None:
    settings = svc.settings
    with svc.db.transaction() as conn:
        if only_if_room:
            active = _count(conn, ACTIVE)
            if active >= settings.max_active_tokens:
                return None
        lock_queue_state(conn)
        return activate(conn, QueueLimits.of(settings), utcnow(), finished)


def _count_activation(done: Activation, trigger: str) -> None:
    """Metrics and the log line of an activation, after its commit."""
    metrics.queue_activation_ran(time.time())
    metrics.queue_waiting_tokens(done.waiting)
    metrics.queue_active_tokens(done.active)
    for status, count in done.expired.items():
        if count:
            metrics.tokens_expired(count, status)
    if done.activated or any(done.expired.values()):
        metrics.tokens_activated(done.activated, trigger)
        log.info(
            "queue tokens activated",
            extra={
                "event": "queue.tokens.activated",
                "queue.activated": done.activated,
                "queue.expired": done.expired[ACTIVE],
                "queue.expired_waiting": done.expired[WAITING],
                "queue.waiting": done.waiting,
                "queue.trigger": trigger,
            },
        )


def seconds_until_next_expiry(svc: Services) -> float | None:
    """When the next ACTIVE token expires (None when none is ACTIVE)."""
    with svc.db.transaction() as conn:
        soonest = conn.execute(
            select(func.min(queue_tokens.c.expires_at)).where(queue_tokens.c.status == ACTIVE)
        ).scalar()
    if soonest is None:
        return None
    return float((soonest - utcnow()).total_seconds())


def _count(conn: Connection, status: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(queue_tokens).where(queue_tokens.c.status == status)
        ).scalar_one()
    )
