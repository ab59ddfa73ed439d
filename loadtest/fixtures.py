"""A load run's data in the stack's MariaDB: a schedule of its own before, the checks after (one
winner per seat, exact points, every event delivered). Its queue tokens are released at the end
by `expire_queue_tokens` (soundcheck/stack/parts/booking.py), which drills and tests share.

Asked of MariaDB itself, not of the service: these are the facts a load test must not take on
the service's word.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pymysql

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection

LOAD_CONCERT = "loadtest"
SEAT_PRICE = 50_000  # the plan's amount: 50000
DELIVERY_WAIT_SECONDS = 120.0  # the relay publishes every 0.2 s; the sink may lag under load
PAYMENT_TOPIC = "payment.completed"


def utc(epoch: float) -> datetime:
    """The service writes naive UTC datetimes."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


class MariaDbFixtures:
    def __init__(self, settings: StackSettings, run_id: str) -> None:
        self.settings = settings
        self.run_id = run_id

    def _connect(self) -> pymysql.connections.Connection:
        return app_connection(self.settings, self.settings.mariadb_database)

    def create_schedule(self, seats: int) -> str:
        """A schedule named after the run, with `seats` AVAILABLE seats."""
        schedule_id = self.run_id
        now = datetime.now(UTC).replace(tzinfo=None)
        with self._connect() as conn, conn.cursor() as cursor:
            cursor.execute(
                "INSERT IGNORE INTO concerts (id, title, artist) VALUES (%s, %s, %s)",
                (LOAD_CONCERT, "Load test", "soundcheck load"),
            )
            cursor.execute(
                "INSERT INTO schedules (id, concert_id, starts_at, venue, updated_at) "
                "VALUES (%s, %s, %s, %s, %s)",
                (schedule_id, LOAD_CONCERT, now.replace(year=now.year + 1), "Load test", now),
            )
            cursor.executemany(
                "INSERT INTO seats (schedule_id, seat_no, price, status) "
                "VALUES (%s, %s, %s, 'AVAILABLE')",
                [(schedule_id, n, SEAT_PRICE) for n in range(1, seats + 1)],
            )
        return schedule_id

    def seat_outcomes(self, schedule_id: str) -> dict[int, dict[str, int]]:
        """Per seat: reservations made, and how many of them are live together beyond one
        (a hold that expired unpaid is EXPIRED and frees its seat; live ones are not)."""
        with self._connect() as conn, conn.cursor() as cursor:
            cursor.execute(
                "SELECT seat_no, COUNT(*), SUM(status <> 'EXPIRED') FROM reservations "
                "WHERE schedule_id = %s GROUP BY seat_no",
                (schedule_id,),
            )
            return {
                int(seat): {"rows": int(rows), "overlapping": max(0, int(live or 0) - 1)}
                for seat, rows, live in cursor.fetchall()
            }

    def outbox_delivery(self, since: float, until: float) -> dict[str, Any]:
        """Events the run wrote to the outbox, how many Kafka acknowledged (the relay marks a row
        published only then), and how many payment events the data-platform sink stored. Waits
        (up to DELIVERY_WAIT_SECONDS) for the relay and the sink to catch up."""
        deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
        while True:
            found = self._delivery_counts(utc(since), utc(until + 1))
            caught_up = (
                found["published"] == found["written"]
                and found["payments_sunk"] == found["payments_written"]
            )
            if caught_up or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        ratios = []
        if found["written"]:
            ratios.append(100.0 * found["published"] / found["written"])
        if found["payments_written"]:
            ratios.append(100.0 * found["payments_sunk"] / found["payments_written"])
        found["delivered_percent"] = min(ratios) if ratios else None
        return found

    def _delivery_counts(self, since: datetime, until: datetime) -> dict[str, Any]:
        with self._connect() as conn, conn.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*), COUNT(published_at), SUM(topic LIKE %s) FROM outbox_events "
                "WHERE created_at BETWEEN %s AND %s",
                (f"%{PAYMENT_TOPIC}", since, until),
            )
            written, published, payments = cursor.fetchone() or (0, 0, 0)
            cursor.execute(
                "SELECT COUNT(*) FROM outbox_events o JOIN data_platform_events d "
                "ON d.event_id = o.event_id WHERE o.created_at BETWEEN %s AND %s "
                "AND o.topic LIKE %s",
                (since, until, f"%{PAYMENT_TOPIC}"),
            )
            (sunk,) = cursor.fetchone() or (0,)
        return {
            "written": int(written),
            "published": int(published),
            "payments_written": int(payments or 0),
            "payments_sunk": int(sunk),
        }

    def points_mismatches(self, user_prefix: str) -> dict[str, Any]:
        """The run's users whose balance is not their charges minus their payments, or is below
        zero, and payments whose amount was not deducted exactly once."""
        like = f"{user_prefix}%"  # a worker's users: <run id>w<worker>-<n>
        with self._connect() as conn, conn.cursor() as cursor:
            cursor.execute(
                "SELECT u.user_id, u.balance, "
                "(SELECT COALESCE(SUM(delta), 0) FROM point_history h WHERE h.user_id = u.user_id),"
                " (SELECT COALESCE(SUM(amount), 0) FROM payments p WHERE p.user_id = u.user_id),"
                " (SELECT COALESCE(-SUM(delta), 0) FROM point_history h "
                "  WHERE h.user_id = u.user_id AND h.kind = 'USE') "
                "FROM user_points u WHERE u.user_id LIKE %s",
                (like,),
            )
            rows = cursor.fetchall()
            cursor.execute("SELECT COUNT(*) FROM payments WHERE user_id LIKE %s", (like,))
            (payments,) = cursor.fetchone() or (0,)
        wrong = [
            user
            for user, balance, history, paid, used in rows
            if balance != history or balance < 0 or paid != used
        ]
        return {
            "users": len(rows),
            "payments": int(payments),
            "mismatched": len(wrong),
            "mismatched_users": wrong[:20],
        }
