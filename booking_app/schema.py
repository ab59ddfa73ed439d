"""Migrations (Alembic, applied at start) and the seed data a fresh database gets."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, exc, func, insert, select

from booking_app.db import utcnow
from booking_app.models import concerts, schedules, seats
from booking_app.settings import BookingSettings

log = logging.getLogger("booking_app.schema")
MIGRATIONS = Path(__file__).parent / "migrations"
POPULAR_SCHEDULE = "schedule_popular"
SEAT_PRICE = 50000


def _engine(settings: BookingSettings) -> Engine:
    return create_engine(settings.database_url.get_secret_value(), pool_pre_ping=True)


def wait_for_database(settings: BookingSettings, within: float = 120.0) -> None:
    deadline = time.monotonic() + within
    engine = _engine(settings)
    try:
        while True:
            try:
                with engine.connect():
                    return
            except exc.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
    finally:
        engine.dispose()


def migrate(settings: BookingSettings) -> None:
    """Bring the schema to the newest revision (no-op when it already is)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def seed_if_empty(settings: BookingSettings, regular_seats: int = 200) -> bool:
    """Concerts, schedules and seats: `schedule_popular` has 50 seats, the others more."""
    engine = _engine(settings)
    try:
        with engine.begin() as conn:
            if conn.execute(select(func.count()).select_from(concerts)).scalar_one():
                return False
            now = utcnow()
            first_night = datetime(now.year + 1, 3, 1, 19, 0)
            conn.execute(
                insert(concerts),
                [
                    {"id": "concert_1", "title": "Soundcheck Live", "artist": "The Pagers"},
                    {"id": "concert_2", "title": "Night of Latency", "artist": "P99"},
                    {"id": "concert_3", "title": "Failover Unplugged", "artist": "Sentinel Trio"},
                ],
            )
            plan = [(POPULAR_SCHEDULE, "concert_1", 0, 50)]
            plan += [
                (f"schedule_{n}", f"concert_{(n - 1) % 3 + 1}", n, regular_seats)
                for n in range(1, 7)
            ]
            for schedule_id, concert_id, day, count in plan:
                conn.execute(
                    insert(schedules).values(
                        id=schedule_id,
                        concert_id=concert_id,
                        starts_at=first_night + timedelta(days=day),
                        venue="Olympic Hall" if day % 2 == 0 else "Blue Square",
                        updated_at=now,
                    )
                )
                conn.execute(
                    insert(seats),
                    [
                        {
                            "schedule_id": schedule_id,
                            "seat_no": no,
                            "price": SEAT_PRICE,
                            "status": "AVAILABLE",
                        }
                        for no in range(1, count + 1)
                    ],
                )
        log.info("seed data created", extra={"event": "booking.seeded"})
        return True
    finally:
        engine.dispose()
