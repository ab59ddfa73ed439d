"""Seat reservations (B3): a Redis seat lock outside the transaction, the database as referee.

Order matters: take `seat:{seatId}` first, then open the transaction, so a connection is held only
by the lock's winner and never while waiting for the lock (plan FP#2). Inside, the seat moves
AVAILABLE → HELD with a conditional update, and the reservation's unique `active_seat_id` makes a
second live reservation impossible even when the lock is degraded to an in-process one.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, and_, exc, insert, select, update

from booking_app import metrics
from booking_app.cache import seats_key
from booking_app.db import utcnow
from booking_app.errors import NotFound, SeatBusy, SeatTaken
from booking_app.locks import LockTimeout
from booking_app.models import EXPIRED, HELD, reservations, schedules, seats
from booking_app.outbox import RESERVATION_CREATED, RESERVATION_EXPIRED, add_event
from booking_app.services import Services

log = logging.getLogger("booking_app.reservations")


def reservation_json(row: Any) -> dict[str, Any]:
    return {
        "reservationId": row.id,
        "userId": row.user_id,
        "concertId": row.concert_id,
        "scheduleId": row.schedule_id,
        "seatNo": row.seat_no,
        "price": row.price,
        "status": row.status,
        "expiresAt": row.expires_at.replace(microsecond=0).isoformat() + "Z",
    }


def reserve_seat(svc: Services, user_id: str, schedule_id: str, seat_no: int) -> dict[str, Any]:
    with svc.db.transaction() as conn:
        seat = conn.execute(
            select(seats.c.id, seats.c.status, schedules.c.concert_id)
            .join(schedules, schedules.c.id == seats.c.schedule_id)
            .where(seats.c.schedule_id == schedule_id, seats.c.seat_no == seat_no)
        ).first()
    if seat is None:
        metrics.reservation_created("not_found")
        raise NotFound(
            f"Schedule {schedule_id!r} has no seat {seat_no}. "
            "GET /concerts/schedules/{scheduleId}/seats lists its seats."
        )
    if seat.status != "AVAILABLE":
        metrics.reservation_created("seat_taken")
        raise _taken(schedule_id, seat_no)
    try:
        with svc.lock.hold(f"seat:{seat.id}"), svc.db.transaction() as conn:
            row = _hold_seat(svc, conn, user_id, schedule_id, seat_no, seat.id, seat.concert_id)
    except LockTimeout:
        metrics.reservation_created("lock_timeout")
        raise SeatBusy(
            f"Seat {seat_no} of schedule {schedule_id!r} is being reserved by someone else "
            "right now. Pick another seat or try again shortly."
        ) from None
    except exc.IntegrityError:
        # Only reachable when two lock holders raced (degraded mode): the database refused.
        metrics.reservation_created("seat_taken")
        raise _taken(schedule_id, seat_no) from None
    svc.cache.evict(seats_key(schedule_id))
    metrics.reservation_created("success")
    return reservation_json(row)


def _taken(schedule_id: str, seat_no: int) -> SeatTaken:
    return SeatTaken(
        f"Seat {seat_no} of schedule {schedule_id!r} is already reserved. Pick another seat."
    )


def _hold_seat(
    svc: Services,
    conn: Connection,
    user_id: str,
    schedule_id: str,
    seat_no: int,
    seat_id: int,
    concert_id: str,
) -> Any:
    row = conn.execute(
        select(seats.c.price).where(seats.c.id == seat_id, seats.c.status == "AVAILABLE")
    ).first()
    if row is None:
        metrics.reservation_created("seat_taken")
        raise _taken(schedule_id, seat_no)
    # The seat first: its exclusive row lock queues concurrent holders (degraded mode, one
    # in-process lock per worker) before they touch reservations. Inserting first took a shared
    # lock on the seat (the foreign key) that the UPDATE then had to upgrade, and two holders
    # deadlocked (one answered 503) instead of one being told the seat is taken.
    changed = conn.execute(
        update(seats)
        .where(seats.c.id == seat_id, seats.c.status == "AVAILABLE")
        .values(status="HELD")
    ).rowcount
    if changed != 1:
        raise exc.IntegrityError("seat no longer AVAILABLE", None, ValueError("seat taken"))
    now = utcnow()
    result = conn.execute(
        insert(reservations).values(
            user_id=user_id,
            seat_id=seat_id,
            schedule_id=schedule_id,
            concert_id=concert_id,
            seat_no=seat_no,
            price=row.price,
            status=HELD,
            created_at=now,
            expires_at=now + timedelta(seconds=svc.settings.hold_ttl_seconds),
            active_seat_id=seat_id,
        )
    )
    reservation_id = result.lastrowid
    add_event(
        conn,
        RESERVATION_CREATED,
        str(reservation_id),
        {
            "reservationId": reservation_id,
            "userId": user_id,
            "scheduleId": schedule_id,
            "concertId": concert_id,
            "seatNo": seat_no,
        },
    )
    return conn.execute(select(reservations).where(reservations.c.id == reservation_id)).one()


def get_reservation(svc: Services, reservation_id: int) -> dict[str, Any]:
    with svc.db.transaction() as conn:
        row = conn.execute(select(reservations).where(reservations.c.id == reservation_id)).first()
    if row is None:
        raise NotFound(f"There is no reservation {reservation_id}.")
    return reservation_json(row)


def expire_unpaid(svc: Services, limit: int = 200) -> list[str]:
    """Give unpaid seats back (HELD past its expiry → EXPIRED, seat AVAILABLE)."""
    expired_schedules: set[str] = set()
    with svc.db.transaction() as conn:
        due = conn.execute(
            select(reservations)
            .where(and_(reservations.c.status == HELD, reservations.c.expires_at < utcnow()))
            .order_by(reservations.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in due:
            conn.execute(
                update(reservations)
                .where(reservations.c.id == row.id)
                .values(status=EXPIRED, active_seat_id=None)
            )
            conn.execute(update(seats).where(seats.c.id == row.seat_id).values(status="AVAILABLE"))
            add_event(
                conn,
                RESERVATION_EXPIRED,
                str(row.id),
                {
                    "reservationId": row.id,
                    "userId": row.user_id,
                    "scheduleId": row.schedule_id,
                    "concertId": row.concert_id,
                    "seatNo": row.seat_no,
                },
            )
            expired_schedules.add(row.schedule_id)
    if due:
        log.info(
            "unpaid reservations expired",
            extra={"event": "reservation.expired", "reservation.count": len(due)},
        )
    return sorted(expired_schedules)
