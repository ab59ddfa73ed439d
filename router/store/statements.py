"""Every SQL statement the router runs on its tables, built once: storing webhooks, claiming due
deliveries, recording outcomes, and the queue's upkeep (depth, leases, dead letters).

Built per webhook or per turn, these statements cost more Python than running them, and most
run while holding SQLite's one writer lock, which a webhook commit may be waiting for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Integer, Update, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased

from router.store.tables import (
    DEAD,
    PENDING,
    AlertEvent,
    Base,
    Delivery,
    IncidentAction,
    TargetRef,
    Webhook,
)

_deliveries: Any = Delivery.__table__
_events: Any = AlertEvent.__table__
_refs: Any = TargetRef.__table__
_webhooks: Any = Webhook.__table__

# --- ingest: a webhook, its alert events and their deliveries ------------------------------------
STORE_WEBHOOK = insert(_webhooks)
EXISTING = select(_events.c.fingerprint, _events.c.starts_at, _events.c.status).where(
    _events.c.fingerprint.in_(bindparam("b_fingerprints", expanding=True))
)
EVENT_IDS = select(
    _events.c.id, _events.c.fingerprint, _events.c.starts_at, _events.c.status
).where(
    _events.c.fingerprint.in_(bindparam("b_fingerprints", expanding=True)),
    _events.c.webhook_id == bindparam("b_webhook_id"),
)

# Fingerprints acknowledged since they last resolved: their re-fires are stored, not notified.
_fingerprints: Any = bindparam("b_fingerprints", expanding=True)
ACKNOWLEDGED_AT = (
    select(IncidentAction.fingerprint, func.max(IncidentAction.at))
    .where(IncidentAction.action == "acknowledge", IncidentAction.fingerprint.in_(_fingerprints))
    .group_by(IncidentAction.fingerprint)
)
LAST_RESOLVED_AT = (
    select(AlertEvent.fingerprint, func.max(AlertEvent.received_at))
    .where(AlertEvent.status == "resolved", AlertEvent.fingerprint.in_(_fingerprints))
    .group_by(AlertEvent.fingerprint)
)


def insert_ignoring_duplicates(model: type[Base], dialect: str) -> Any:
    """Inserts the rows whose unique keys are free and leaves the others as they are."""
    table: Any = model.__table__
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql_insert(table).on_conflict_do_nothing()
    if dialect in ("mysql", "mariadb"):
        return mysql_insert(table).prefix_with("IGNORE")
    raise RuntimeError(f"the router's store does not support {dialect} databases")


def upsert_target_refs(dialect: str) -> Any:
    """Inserts what targets gave back, replacing the earlier ref of the same thread."""
    table: Any = TargetRef.__table__
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


# --- the worker: claims and outcomes -------------------------------------------------------------
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
# Its parameters are the columns prefixed `b_` (see `bound`): SET takes the plain names.
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


def bound(values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values as the parameters of SETTLE (`b_id`, `b_state`, ...)."""
    return {f"b_{name}": value for name, value in values.items()}


# --- upkeep: depth, leases of a crashed worker, dead letters -------------------------------------
QUEUE_DEPTH = select(Delivery.state, func.count()).group_by(Delivery.state)
# After a crash, our own earlier leases are ours to retry at once (not after expiry).
RELEASE_LEASES = (
    update(Delivery)
    .where(Delivery.lease_owner == bindparam("b_owner"), Delivery.state == PENDING)
    .values(lease_owner=None, lease_until=None)
)
DEAD_LETTERS = select(Delivery).where(Delivery.state == DEAD)


def replay_dead(target: str | None, ids: list[int] | None, now: float) -> Update:
    """Dead letters (of a target, or these ids) back in the queue, with a fresh dead-letter
    clock."""
    statement = update(Delivery).where(Delivery.state == DEAD)
    if target:
        statement = statement.where(Delivery.target == target)
    if ids:
        statement = statement.where(Delivery.id.in_(ids))
    return statement.values(
        state=PENDING, attempts=0, created_at=now, next_attempt_at=now, last_error=""
    )
