"""The router's durable store: webhooks as received, alert events, planned deliveries and what
targets gave back. `tables` (models), `engine` (connection, SQLite pragmas), `writer_gate`,
`statements` (all SQL on these tables), `schema` + `migrations/` (Alembic), `database` (`Store`).
"""

from router.store.database import Store
from router.store.tables import (
    DEAD,
    DELIVERED,
    GIVEN_UP,
    PENDING,
    AlertEvent,
    Base,
    Delivery,
    TargetRef,
    Webhook,
)

__all__ = [
    "DEAD",
    "DELIVERED",
    "GIVEN_UP",
    "PENDING",
    "AlertEvent",
    "Base",
    "Delivery",
    "Store",
    "TargetRef",
    "Webhook",
]
