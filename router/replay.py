"""Dead letters back into the queue (`soundcheck router replay`)."""

from __future__ import annotations

from router.settings import RouterSettings
from router.store import Delivery, Store


def list_dead(settings: RouterSettings) -> list[Delivery]:
    store = Store(settings.database_url)
    store.create_schema()
    return store.dead_letters()


def replay(
    settings: RouterSettings, target: str | None = None, ids: list[int] | None = None
) -> int:
    """How many dead deliveries were queued again; the running worker picks them up."""
    store = Store(settings.database_url)
    store.create_schema()
    return store.replay_dead(target, ids)
