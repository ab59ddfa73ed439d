"""The concert ranking (B6): a Redis sorted set of confirmed bookings per concert.

The ranking consumer adds to it once per `payment.completed` event (the event id is remembered
in the same Lua step). When Redis is unavailable the ranking is counted from the database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from booking_app.models import CONFIRMED, concerts, reservations
from booking_app.redis_store import RedisUnavailable
from booking_app.services import Services

BOARD = "ranking:concerts"


def record_booking(svc: Services, event_id: str, concert_id: str) -> bool:
    """Count one booking for the concert; False if this event was counted before."""
    return svc.redis.increment_once(f"ranking:seen:{event_id}", BOARD, concert_id, 1)


def top_concerts(svc: Services, limit: int) -> dict[str, Any]:
    try:
        scores = svc.redis.top(BOARD, limit)
        source = "redis"
    except RedisUnavailable:
        scores = _from_database(svc, limit)
        source = "database"
    titles = _titles(svc, [concert for concert, _ in scores])
    return {
        "source": source,
        "ranking": [
            {"rank": i + 1, "concertId": c, "title": titles.get(c, ""), "bookings": int(s)}
            for i, (c, s) in enumerate(scores)
        ],
    }


def _from_database(svc: Services, limit: int) -> list[tuple[str, float]]:
    with svc.db.transaction() as conn:
        rows = conn.execute(
            select(reservations.c.concert_id, func.count().label("n"))
            .where(reservations.c.status == CONFIRMED)
            .group_by(reservations.c.concert_id)
            .order_by(func.count().desc(), reservations.c.concert_id)
            .limit(limit)
        ).all()
    return [(r.concert_id, float(r.n)) for r in rows]


def _titles(svc: Services, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    with svc.db.transaction() as conn:
        rows = conn.execute(select(concerts.c.id, concerts.c.title).where(concerts.c.id.in_(ids)))
        return {r.id: r.title for r in rows}
