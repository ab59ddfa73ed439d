"""The worker's SQL, built once: claiming due deliveries and recording outcomes.

Built per turn, these statements cost more Python than running them, and every turn runs while
holding SQLite's one writer lock, which a webhook commit may be waiting for.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import aliased

from router.store import PENDING, AlertEvent, Delivery, TargetRef, Webhook

_earlier = aliased(Delivery)
_blocked = exists().where(  # an earlier delivery of the same thread (target, destination, alert)
    _earlier.target == Delivery.target,
    _earlier.destination == Delivery.destination,
    _earlier.identity == Delivery.identity,
    _earlier.state == PENDING,
    _earlier.id < Delivery.id,
)
_unleased = or_(Delivery.lease_until.is_(None), Delivery.lease_until < bindparam("b_now"))

# Due deliveries whose predecessors are finished, P0 first ("P0" < "P1" < ...), then the longest
# due: walks the (state, priority, next_attempt_at, id) index, a few rows however long the queue.
DUE = (
    select(Delivery.id, Delivery.in_flight)
    .where(
        Delivery.state == PENDING,
        Delivery.next_attempt_at <= bindparam("b_now"),
        _unleased,
        ~_blocked,
    )
    .order_by(Delivery.priority, Delivery.next_attempt_at, Delivery.id)
    .limit(bindparam("b_free", type_=Integer))
)

# Lease one (its rowcount says whether a twin router took it first), count the attempt and mark
# it in flight: a crash from here on is detectable.
LEASE = (
    update(Delivery)
    .where(Delivery.id == bindparam("b_id"), Delivery.state == PENDING, _unleased)
    .values(
        lease_owner=bindparam("b_owner"),
        lease_until=bindparam("b_until"),
        in_flight=True,
        attempts=Delivery.attempts + 1,
    )
)

# An outcome, for many deliveries at once (executemany): every column is set, some to what it was.
SETTLE = (
    update(Delivery)
    .where(Delivery.id == bindparam("b_id"))
    .values(
        in_flight=False,
        lease_owner=None,
        lease_until=None,
        state=bindparam("b_state"),
        finished_at=bindparam("b_finished_at"),
        last_error=bindparam("b_last_error"),
        next_attempt_at=bindparam("b_next_attempt_at"),
    )
)

# What deciding an outcome needs to know about a delivery (read without the writer lock: only
# the worker holding its lease changes these).
FACTS = select(
    Delivery.id,
    Delivery.target,
    Delivery.destination,
    Delivery.identity,
    Delivery.action,
    Delivery.attempts,
    Delivery.created_at,
    Delivery.accepted_at,
    Delivery.next_attempt_at,
)

_deliveries: Any = Delivery.__table__
_events: Any = AlertEvent.__table__
_refs: Any = TargetRef.__table__
_webhooks: Any = Webhook.__table__

# Everything one attempt needs, in one read (plain tables: no ORM objects to build): the
# delivery, its alert event, and what its target gave back for the thread so far, if anything.
JOB = (
    select(
        _deliveries.c.state,
        _deliveries.c.target,
        _deliveries.c.destination,
        _deliveries.c.identity,
        _deliveries.c.route,
        _deliveries.c.action,
        _deliveries.c.idempotency_key,
        _events.c.alert,
        _events.c.priority,
        _events.c.group_key,
        _events.c.external_url,
        _events.c.webhook_id,
        _webhooks.c.truncated_alerts,
        _refs.c.ref,
    )
    .select_from(_deliveries)
    .join(_events, _events.c.id == _deliveries.c.event_id)
    .join(_webhooks, _webhooks.c.id == _events.c.webhook_id)
    .outerjoin(
        _refs,
        and_(
            _refs.c.target == _deliveries.c.target,
            _refs.c.destination == _deliveries.c.destination,
            _refs.c.identity == _deliveries.c.identity,
        ),
    )
    .where(_deliveries.c.id == bindparam("b_id"))
)

# The alerts one notification brought first (a message per notification lists them): the events
# its webhook stored, of one priority, in the order they came.
NOTIFICATION_ALERTS = (
    select(_events.c.alert)
    .where(
        _events.c.webhook_id == bindparam("b_webhook_id"),
        _events.c.priority == bindparam("b_priority"),
    )
    .order_by(_events.c.id)
)
