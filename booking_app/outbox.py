"""The transactional outbox (B7, plan 4-3): events are rows written in the business transaction.

`add_event` is called inside the transaction that changes the data, so an event exists exactly
when its change was committed. The relay (`booking_app.relay`) publishes the rows to Kafka.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, insert

from booking_app.db import utcnow
from booking_app.models import outbox_events

PAYMENT_COMPLETED = "payment.completed"
RESERVATION_CREATED = "reservation.created"
RESERVATION_EXPIRED = "reservation.expired"
TOPICS = (PAYMENT_COMPLETED, RESERVATION_CREATED, RESERVATION_EXPIRED)


def add_event(conn: Connection, topic: str, key: str, payload: dict[str, Any]) -> str:
    event_id = str(uuid.uuid4())
    now = utcnow()
    conn.execute(
        insert(outbox_events).values(
            event_id=event_id,
            topic=topic,
            event_key=key,
            payload={
                **payload,
                "eventId": event_id,
                "eventType": topic,
                "occurredAt": now.isoformat() + "Z",
            },
            created_at=now,
        )
    )
    return event_id
