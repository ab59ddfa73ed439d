"""Dead letters: listing them and putting them back in the queue (`soundcheck router ...`)."""

from __future__ import annotations

from router.store import Delivery, Store


def dead_letters(database_url: str) -> list[Delivery]:
    store = Store(database_url)
    try:
        store.create_schema()
        return store.dead_letters()
    finally:
        store.close()


def replay(database_url: str, target: str | None = None, ids: list[int] | None = None) -> int:
    """How many dead deliveries were queued again; the running router delivers them at once."""
    store = Store(database_url)
    try:
        store.create_schema()
        return store.replay_dead(target, ids)
    finally:
        store.close()
