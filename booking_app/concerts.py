"""Concert, schedule and seat reads through the cache (B2), and the admin writes that evict it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from booking_app.cache import CONCERTS_KEY, schedules_key, seats_key
from booking_app.db import utcnow
from booking_app.errors import NotFound
from booking_app.models import concerts, schedules, seats
from booking_app.services import Services


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def list_concerts(svc: Services) -> tuple[dict[str, Any], bool]:
    def load() -> dict[str, Any]:
        with svc.db.transaction() as conn:
            rows = conn.execute(select(concerts).order_by(concerts.c.id)).all()
        return {
            "concerts": [{"concertId": r.id, "title": r.title, "artist": r.artist} for r in rows]
        }

    value, hit = svc.cache.read("concerts", CONCERTS_KEY, load)
    return value, hit


def _schedule_json(row: Any) -> dict[str, Any]:
    return {
        "scheduleId": row.id,
        "concertId": row.concert_id,
        "startsAt": _iso(row.starts_at),
        "venue": row.venue,
    }


def list_schedules(svc: Services, concert_id: str) -> tuple[dict[str, Any], bool]:
    def load() -> dict[str, Any] | None:
        with svc.db.transaction() as conn:
            if (
                conn.execute(select(concerts.c.id).where(concerts.c.id == concert_id)).first()
                is None
            ):
                return None
            rows = conn.execute(
                select(schedules)
                .where(schedules.c.concert_id == concert_id)
                .order_by(schedules.c.starts_at, schedules.c.id)
            ).all()
        return {"concertId": concert_id, "schedules": [_schedule_json(r) for r in rows]}

    value, hit = svc.cache.read("schedules", schedules_key(concert_id), load)
    if value is None:
        raise NotFound(f"There is no concert {concert_id!r}. GET /concerts lists them.")
    return value, hit


def list_seats(svc: Services, schedule_id: str) -> tuple[dict[str, Any], bool]:
    def load() -> dict[str, Any] | None:
        with svc.db.transaction() as conn:
            schedule = conn.execute(select(schedules).where(schedules.c.id == schedule_id)).first()
            if schedule is None:
                return None
            rows = conn.execute(
                select(seats.c.seat_no, seats.c.price, seats.c.status)
                .where(seats.c.schedule_id == schedule_id)
                .order_by(seats.c.seat_no)
            ).all()
        return {
            **_schedule_json(schedule),
            "seats": [{"seatNo": r.seat_no, "price": r.price, "status": r.status} for r in rows],
        }

    value, hit = svc.cache.read("seats", seats_key(schedule_id), load)
    if value is None:
        raise NotFound(
            f"There is no schedule {schedule_id!r}. GET /concerts/{{concertId}}/schedules "
            "lists a concert's schedules."
        )
    return value, hit


def update_schedule(
    svc: Services, schedule_id: str, venue: str | None, starts_at: datetime | None
) -> dict[str, Any]:
    """Write first, evict after the commit: a reader never re-caches the old row afterwards."""
    values: dict[str, Any] = {"updated_at": utcnow()}
    if venue is not None:
        values["venue"] = venue
    if starts_at is not None:
        values["starts_at"] = starts_at
    with svc.db.transaction() as conn:
        found = conn.execute(
            update(schedules).where(schedules.c.id == schedule_id).values(**values)
        ).rowcount
        row = conn.execute(select(schedules).where(schedules.c.id == schedule_id)).first()
    if not found or row is None:
        raise NotFound(f"There is no schedule {schedule_id!r} to update.")
    svc.cache.evict(schedules_key(row.concert_id), seats_key(schedule_id))
    return _schedule_json(row)


def update_seat_price(svc: Services, schedule_id: str, seat_no: int, price: int) -> dict[str, Any]:
    with svc.db.transaction() as conn:
        found = conn.execute(
            update(seats)
            .where(seats.c.schedule_id == schedule_id, seats.c.seat_no == seat_no)
            .values(price=price)
        ).rowcount
        row = conn.execute(
            select(seats.c.seat_no, seats.c.price, seats.c.status).where(
                seats.c.schedule_id == schedule_id, seats.c.seat_no == seat_no
            )
        ).first()
    if not found or row is None:
        raise NotFound(f"Schedule {schedule_id!r} has no seat {seat_no}.")
    svc.cache.evict(seats_key(schedule_id))
    return {
        "scheduleId": schedule_id,
        "seatNo": row.seat_no,
        "price": row.price,
        "status": row.status,
    }
