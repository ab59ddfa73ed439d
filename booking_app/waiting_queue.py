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
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from booking_app import metrics
from booking_app.db import utcnow
from booking_app.errors import NotFound, TokenAlreadyIssued
from booking_app.models import queue_state, queue_tokens
from booking_app.services import Services

log = logging.getLogger("booking_app.queue")

WAITING, ACTIVE, EXPIRED = "WAITING", "ACTIVE", "EXPIRED"
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
    """1 for the next token to activate. Activation takes the oldest WAITING token first, so the
    WAITING tokens are the newest ones: the distance to the oldest of them is the place, found
    on the (status, id) index without counting every token ahead (the queue can be long).
    A token that expired while waiting still counts for the ones behind it until the head of
    the queue passes it: the place is an upper bound, and it falls faster than one a turn."""
    if status != WAITING:
        return 0
    oldest = conn.execute(
        select(func.min(queue_tokens.c.id)).where(queue_tokens.c.status == WAITING)
    ).scalar()
    return max(1, token_id - int(oldest if oldest is not None else token_id) + 1)


def _live(now: datetime) -> ColumnElement[bool]:
    """WAITING or ACTIVE and not past its expiry (the timer may not have marked it yet)."""
    return queue_tokens.c.status.in_((WAITING, ACTIVE)) & (queue_tokens.c.expires_at >= now)


def issue_token(svc: Services, user_id: str) -> TokenView:
    """A new token for a user without a live one, activated now if there is room.

    One transaction in the common case (the queue is full: the new token waits), because a
    ticket opening sends this request more than any other (plan scenario 1).
    """
    settings = svc.settings
    with svc.db.transaction() as conn:
        now = utcnow()
        existing = conn.execute(
            select(queue_tokens.c.id).where(queue_tokens.c.user_id == user_id, _live(now)).limit(1)
        ).scalar()
        if existing is not None:
            raise TokenAlreadyIssued(
                f"User {user_id!r} already holds a live queue token: keep sending that one in "
                "X-Queue-Token. A token is given out only once; a lost WAITING token expires "
                f"{settings.waiting_token_ttl_seconds:.0f} s after its last GET /queue/status "
                f"(an ACTIVE one {settings.active_token_ttl_seconds:.0f} s after activation), "
                "then ask again."
            )
        token = secrets.token_hex(16)
        conn.execute(
            insert(queue_tokens).values(
                token=token,
                user_id=user_id,
                status=WAITING,
                created_at=now,
                expires_at=now + timedelta(seconds=settings.waiting_token_ttl_seconds),
            )
        )
        if _count(conn, ACTIVE) >= svc.settings.max_active_tokens:
            return _view(conn, token)
    activate_tokens(svc, trigger="issue", only_if_room=True)
    return token_status(svc, token)


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


def token_status(svc: Services, token: str) -> TokenView:
    _refuse_malformed(token)
    with svc.db.transaction() as conn:
        return _view(conn, token)


def poll_status(svc: Services, token: str) -> TokenView:
    """A token's status, as its user polls it; polling keeps a WAITING token alive.

    The expiry moves only once a quarter of the lifetime has passed since it last moved, so a
    client polling every half second costs a write now and then, not one per poll."""
    _refuse_malformed(token)
    lifetime = timedelta(seconds=svc.settings.waiting_token_ttl_seconds)
    with svc.db.transaction() as conn:
        now = utcnow()
        conn.execute(
            update(queue_tokens)
            .where(
                queue_tokens.c.token == token,
                queue_tokens.c.status == WAITING,
                queue_tokens.c.expires_at >= now,
                queue_tokens.c.expires_at < now + lifetime * 0.75,
            )
            .values(expires_at=now + lifetime)
        )
        return _view(conn, token)


def expire_token(svc: Services, token: str) -> None:
    """The user is done (payment completed): free the place and let the next one in, in the
    activation's own transaction (see `activate_tokens`)."""
    activate_tokens(svc, trigger="payment_completed", finished=token)


def activate_tokens(
    svc: Services, trigger: str, only_if_room: bool = False, finished: str | None = None
) -> int:
    """Expire overdue tokens, ACTIVE and WAITING (and `finished`, a user's who is done), and
    activate the oldest WAITING ones up to the maximum.

    Overdue WAITING tokens go before the activation picks any: a token whose client left would
    otherwise take an ACTIVE place nobody uses until its ACTIVE lifetime ends.

    Every change of ACTIVE tokens happens here, after the queue_state row lock: expiring a
    finished user's token in a transaction of its own locked its row by token and then its
    status index entry, while this one's scan locks status entries and then rows; payments
    finishing together deadlocked (3-4 of 120 in a demo ticket opening, each answered 503)."""
    settings = svc.settings
    with svc.db.transaction() as conn:
        if only_if_room:
            active = _count(conn, ACTIVE)
            if active >= settings.max_active_tokens:
                return 0
        conn.execute(select(queue_state.c.id).where(queue_state.c.id == 1).with_for_update())
        now = utcnow()
        if finished is not None:
            conn.execute(
                update(queue_tokens)
                .where(queue_tokens.c.token == finished, queue_tokens.c.status == ACTIVE)
                .values(status=EXPIRED, expires_at=now)
            )
        expired = {
            status: conn.execute(
                update(queue_tokens)
                .where(queue_tokens.c.status == status, queue_tokens.c.expires_at < now)
                .values(status=EXPIRED)
            ).rowcount
            for status in (ACTIVE, WAITING)
        }
        room = settings.max_active_tokens - _count(conn, ACTIVE)
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
                    expires_at=now + timedelta(seconds=settings.active_token_ttl_seconds),
                )
            )
        conn.execute(
            update(queue_state).where(queue_state.c.id == 1).values(last_activation_at=now)
        )
        waiting = _count(conn, WAITING)
        active_now = _count(conn, ACTIVE)
    metrics.queue_waiting_tokens(waiting)
    metrics.queue_active_tokens(active_now)
    for status, count in expired.items():
        if count:
            metrics.tokens_expired(count, status)
    if ids or any(expired.values()):
        metrics.tokens_activated(len(ids), trigger)
        log.info(
            "queue tokens activated",
            extra={
                "event": "queue.tokens.activated",
                "queue.activated": len(ids),
                "queue.expired": expired[ACTIVE],
                "queue.expired_waiting": expired[WAITING],
                "queue.waiting": waiting,
                "queue.trigger": trigger,
            },
        )
    return len(ids)


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
