"""Points (B4): charge and use, exact to the won, never negative.

Every change is one conditional UPDATE on the user's row (`balance >= amount` for a use), so
concurrent changes serialise on the row lock and a balance cannot go below zero; the table's
CHECK constraint says the same a second time. The per-user Redis lock (`points:{userId}`) taken
by payments keeps contention off the database, but correctness never depends on it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert

from booking_app.db import retry_deadlock, utcnow
from booking_app.errors import PaymentRequired
from booking_app.models import point_history, user_points
from booking_app.services import Services


def balance(svc: Services, user_id: str) -> dict[str, Any]:
    with svc.db.transaction() as conn:
        value = conn.execute(
            select(user_points.c.balance).where(user_points.c.user_id == user_id)
        ).scalar()
    return {"userId": user_id, "balance": int(value or 0)}


@retry_deadlock
def charge(svc: Services, user_id: str, amount: int) -> dict[str, Any]:
    """One transaction: the upsert of the user's row, its history line, the new balance. Run
    again once when MariaDB rolled it back as a deadlock's victim: charges waiting on rows a
    rolled-back transaction had inserted deadlocked among themselves (the db-pool-exhaustion
    drill's crowd, 35 of 100 at its repair, each answered 503)."""
    now = utcnow()
    with svc.db.transaction() as conn:
        statement = mysql_insert(user_points).values(
            user_id=user_id, balance=amount, updated_at=now
        )
        conn.execute(
            statement.on_duplicate_key_update(
                balance=user_points.c.balance + amount, updated_at=now
            )
        )
        conn.execute(
            insert(point_history).values(
                user_id=user_id, delta=amount, kind="CHARGE", created_at=now
            )
        )
        value = conn.execute(
            select(user_points.c.balance).where(user_points.c.user_id == user_id)
        ).scalar_one()
    return {"userId": user_id, "balance": int(value)}


def use(conn: Connection, user_id: str, amount: int, reference: str) -> int:
    """Deduct inside the caller's transaction; PaymentRequired when the balance is short."""
    now = utcnow()
    changed = conn.execute(
        update(user_points)
        .where(user_points.c.user_id == user_id, user_points.c.balance >= amount)
        .values(balance=user_points.c.balance - amount, updated_at=now)
    ).rowcount
    if changed != 1:
        have = conn.execute(
            select(user_points.c.balance).where(user_points.c.user_id == user_id)
        ).scalar()
        raise PaymentRequired(
            f"User {user_id!r} has {int(have or 0)} points but the payment needs {amount}. "
            "Charge points first: POST /users/{userId}/points/charge."
        )
    conn.execute(
        insert(point_history).values(
            user_id=user_id, delta=-amount, kind="USE", reference=reference, created_at=now
        )
    )
    return int(
        conn.execute(
            select(user_points.c.balance).where(user_points.c.user_id == user_id)
        ).scalar_one()
    )
