"""Payments (B5): under `reservation:{id}`, one transaction deducts points, confirms the
reservation and writes `payment.completed` to the outbox; a retry never charges twice.

Idempotency is the database's: one payment per reservation (unique), one per idempotency key
(unique). A retry of a completed payment gets the original answer back, marked as a replay.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, exc, func, insert, select, update

from booking_app import metrics, points, queue_identity, waiting_queue
from booking_app.cache import seats_key
from booking_app.db import utcnow
from booking_app.errors import Conflict, InvalidRequest, NotFound, PaymentInProgress
from booking_app.locks import LockTimeout
from booking_app.models import CONFIRMED, HELD, payments, reservations, seats
from booking_app.outbox import PAYMENT_COMPLETED, add_event
from booking_app.services import Services

log = logging.getLogger("booking_app.payments")


class ConfirmedMeanwhile(Conflict):
    """The reservation was confirmed after this request looked for an earlier payment: by a
    concurrent retry of the same payment that got past the lock too (in degraded mode each
    worker holds only its in-process lock). Its payment is the answer, as a replay."""


def payment_json(row: Any, reservation: Any) -> dict[str, Any]:
    return {
        "paymentId": row.id,
        "reservationId": row.reservation_id,
        "userId": row.user_id,
        "amount": int(row.amount),
        "status": row.status,
        "seatNo": reservation.seat_no,
        "scheduleId": reservation.schedule_id,
        "paidAt": row.created_at.replace(microsecond=0).isoformat() + "Z",
    }


def _existing(conn: Connection, reservation_id: int, key: str | None) -> Any:
    clause = payments.c.reservation_id == reservation_id
    if key is not None:
        clause = clause | (payments.c.idempotency_key == key)
    return conn.execute(select(payments).where(clause)).first()


def _replay(conn: Connection, row: Any, reservation_id: int) -> dict[str, Any]:
    if row.reservation_id != reservation_id:
        raise Conflict(
            "This Idempotency-Key was already used for another reservation's payment. "
            "Use a new key for a new payment."
        )
    reservation = conn.execute(
        select(reservations).where(reservations.c.id == row.reservation_id)
    ).one()
    return payment_json(row, reservation)


def pay(
    svc: Services,
    token: waiting_queue.TokenView,
    reservation_id: int,
    amount: int,
    idempotency_key: str | None,
) -> tuple[dict[str, Any], bool]:
    """The payment, and whether it is a replay of an earlier one (no new charge).

    Only the reservation's owner pays it or sees its payment (403 for another user's token); a
    replay takes the owner's token in any state: the first payment expired it.
    """
    user_id = token.user_id
    with svc.db.transaction() as conn:
        earlier = _existing(conn, reservation_id, idempotency_key)
        if earlier is not None:
            queue_identity.ensure_owner(token, earlier.user_id, "this payment")
            return _replay(conn, earlier, reservation_id), True
    queue_identity.ensure_active(token)
    try:
        with svc.lock.hold(f"reservation:{reservation_id}"), svc.lock.hold(f"points:{user_id}"):
            try:
                with svc.db.transaction() as conn:
                    result = _pay_locked(conn, token, reservation_id, amount, idempotency_key)
            except (exc.IntegrityError, ConfirmedMeanwhile):
                # A concurrent retry won (the unique constraint, or it confirmed the reservation
                # first): answer with its payment.
                with svc.db.transaction() as conn:
                    earlier = _existing(conn, reservation_id, idempotency_key)
                    if earlier is None:
                        raise
                    queue_identity.ensure_owner(token, earlier.user_id, "this payment")
                    return _replay(conn, earlier, reservation_id), True
    except LockTimeout:
        raise PaymentInProgress(
            f"Reservation {reservation_id} is being paid right now. Retry the same request "
            "with the same Idempotency-Key in a moment; it will not be charged twice."
        ) from None
    if isinstance(result, tuple):
        return result
    svc.cache.evict(seats_key(result["scheduleId"]))
    metrics.payment_completed(amount)
    # The user is done once nothing is left to pay: their place goes to the next token at once.
    if _held_count(svc, user_id) == 0:
        waiting_queue.expire_token(svc, token.token)
    else:
        waiting_queue.activate_tokens(svc, trigger="payment_completed")
    log.info(
        "payment completed",
        extra={
            "event": "payment.completed",
            "payment.id": result["paymentId"],
            "reservation.id": reservation_id,
            "payment.amount": amount,
        },
    )
    return result, False


def _held_count(svc: Services, user_id: str) -> int:
    with svc.db.transaction() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(reservations)
                .where(reservations.c.user_id == user_id, reservations.c.status == HELD)
            ).scalar_one()
        )


def _pay_locked(
    conn: Connection,
    token: waiting_queue.TokenView,
    reservation_id: int,
    amount: int,
    key: str | None,
) -> Any:
    user_id = token.user_id
    earlier = _existing(conn, reservation_id, key)
    if earlier is not None:
        queue_identity.ensure_owner(token, earlier.user_id, "this payment")
        return _replay(conn, earlier, reservation_id), True
    reservation = conn.execute(
        select(reservations).where(reservations.c.id == reservation_id).with_for_update()
    ).first()
    if reservation is None:
        raise NotFound(f"There is no reservation {reservation_id} to pay.")
    queue_identity.ensure_owner(token, reservation.user_id, f"paying reservation {reservation_id}")
    if reservation.status == CONFIRMED:
        # Our first look (a consistent read) predates that payment; a fresh transaction sees it.
        raise ConfirmedMeanwhile(
            f"Reservation {reservation_id} is CONFIRMED and can no longer be paid. "
            "Reserve the seat again."
        )
    if reservation.status != HELD:
        raise Conflict(
            f"Reservation {reservation_id} is {reservation.status} and can no longer be paid. "
            "Reserve the seat again."
        )
    if reservation.expires_at < utcnow():
        raise Conflict(
            f"Reservation {reservation_id} expired before it was paid. Reserve the seat again."
        )
    if amount != reservation.price:
        raise InvalidRequest(
            f"The amount {amount} does not match the seat's price {reservation.price}."
        )
    points.use(conn, user_id, amount, reference=f"reservation:{reservation_id}")
    now = utcnow()
    payment_id = conn.execute(
        insert(payments).values(
            reservation_id=reservation_id,
            user_id=user_id,
            amount=amount,
            status="SUCCESS",
            idempotency_key=key,
            created_at=now,
        )
    ).lastrowid
    conn.execute(
        update(reservations).where(reservations.c.id == reservation_id).values(status=CONFIRMED)
    )
    conn.execute(update(seats).where(seats.c.id == reservation.seat_id).values(status="SOLD"))
    add_event(
        conn,
        PAYMENT_COMPLETED,
        str(reservation_id),
        {
            "paymentId": payment_id,
            "userId": user_id,
            "reservationId": reservation_id,
            "seatId": reservation.seat_id,
            "seatNo": reservation.seat_no,
            "scheduleId": reservation.schedule_id,
            "concertId": reservation.concert_id,
            "amount": amount,
        },
    )
    row = conn.execute(select(payments).where(payments.c.id == payment_id)).one()
    reservation = conn.execute(
        select(reservations).where(reservations.c.id == reservation_id)
    ).one()
    return payment_json(row, reservation)
