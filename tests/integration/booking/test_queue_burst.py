"""B1 under a ticket opening's first second: token requests that all arrive together, over two
worker processes, activate exactly the free places, never one more; and a token issued with room
and nobody waiting holds the queue's lock for as little as it can (no expiry sweep, no FIFO pick),
since every request of that second waits for that lock in turn."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from sqlalchemy import Connection, create_engine, event

from booking_app.db import utcnow
from booking_app.queue_statements import ACTIVE, WAITING, QueueLimits, issue
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import database_url
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack
from tests.support.booking_instances import (
    BookingInstance,
    concurrently,
    start_instance,
    stop_instance,
)

PLACES = 10


@pytest.fixture(scope="module")
def ten_places(stack: Stack, settings: StackSettings) -> Iterator[BookingInstance]:
    instance = start_instance(
        settings,
        "queue-burst",
        redis_db=13,  # a database number no other suite uses
        BOOKING_MAX_ACTIVE_TOKENS=str(PLACES),
        BOOKING_ACTIVATION_INTERVAL_SECONDS="3600",  # only the requests themselves activate
    )
    yield instance
    stop_instance(instance)


@pytest.fixture
def empty_queue(ten_places: BookingInstance) -> BookingInstance:
    ten_places.sql("UPDATE queue_tokens SET status = 'EXPIRED' WHERE status <> 'EXPIRED'")
    return ten_places


def burst(app: BookingInstance, prefix: str, count: int) -> list[dict[str, object]]:
    """`count` token requests let go at the same moment, each on its own open connection."""
    ready = threading.Barrier(count)

    def ask(n: int) -> dict[str, object]:
        with app.client() as client:
            client.get("/health")  # the connection is open before the barrier lets go
            ready.wait()
            answer = client.post("/queue/token", json={"userId": f"{prefix}-{n}"})
        assert answer.status_code == 201, answer.text
        body: dict[str, object] = answer.json()
        return body

    return concurrently(count, ask)


def live_tokens(app: BookingInstance) -> dict[str, int]:
    rows = app.sql("SELECT status, COUNT(*) FROM queue_tokens GROUP BY status")
    return {str(status): int(count) for status, count in rows if status != "EXPIRED"}


def status_of(client: httpx.Client, token: object) -> dict[str, object]:
    answer: dict[str, object] = client.get(
        "/queue/status", headers={"X-Queue-Token": str(token)}
    ).json()
    return answer


@pytest.mark.parametrize("round_", range(3))
def test_a_burst_activates_exactly_the_free_places_and_leaves_none_free(
    empty_queue: BookingInstance, round_: int
) -> None:
    """The timer is off: a token that found the activation lock taken and stayed WAITING with
    room would stay so, and the counts would show it (whether a request finds the lock taken
    is chance, hence three rounds). An answer may say WAITING for a token activated just after
    by the lock's holder (queue_statements.settle): the state after the burst, and each
    token's status, is what counts."""
    app = empty_queue
    first = burst(app, f"burst-first-{round_}", 6)
    counts = live_tokens(app)
    assert (counts.get(ACTIVE), counts.get(WAITING)) == (6, None), counts
    second = burst(app, f"burst-second-{round_}", 34)
    counts = live_tokens(app)
    assert (counts.get(ACTIVE), counts.get(WAITING)) == (PLACES, 30), counts
    with app.client() as client:
        assert [status_of(client, a["tokenValue"])["status"] for a in first] == [ACTIVE] * 6
        now = [status_of(client, answer["tokenValue"]) for answer in second]
    assert sorted(str(s["status"]) for s in now) == [ACTIVE] * 4 + [WAITING] * 30
    # A place is an upper bound (queue_statements.position): distinct, from 1.
    places = sorted(int(str(s["position"])) for s in now if s["status"] == WAITING)
    assert len(set(places)) == 30, places
    assert places[0] == 1, places


def test_a_token_request_does_not_wait_for_the_activation_lock(
    empty_queue: BookingInstance,
) -> None:
    """With the lock held elsewhere, a request with room answers WAITING at once (it used to
    wait its turn, and past the lock wait timeout answered 503); the next request that gets
    the lock activates it first (FIFO), then itself."""
    app = empty_queue
    with app_connection(app.settings, app.database) as holder, holder.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT id FROM queue_state WHERE id = 1 FOR UPDATE")
        with app.client(timeout=4) as client:  # under the lock wait timeout (5 s)
            first = client.post("/queue/token", json={"userId": "burst-while-locked"})
        cursor.execute("ROLLBACK")
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["position"]) == (WAITING, 1)
    with app.client() as client:
        second = client.post("/queue/token", json={"userId": "burst-after-the-lock"})
        assert second.json()["status"] == ACTIVE, second.text
        assert status_of(client, first.json()["tokenValue"])["status"] == ACTIVE


def test_a_token_issued_with_room_and_nobody_waiting_runs_no_activation(
    empty_queue: BookingInstance,
) -> None:
    app = empty_queue
    engine = create_engine(
        database_url(app.settings, app.database), isolation_level="READ COMMITTED"
    )
    statements: list[str] = []

    def record(_conn: Connection, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    limits = QueueLimits(PLACES, 600.0, 120.0)
    now: datetime = utcnow()
    try:
        with engine.begin() as conn:
            issued = issue(conn, limits, "burst-alone", now)
    finally:
        engine.dispose()
    assert issued.status == ACTIVE
    assert issued.activation is not None
    assert issued.activation.active == 1
    # The unlocked read, the queue_state lock, the read under it, the insert: no UPDATE (no
    # expiry sweep, no activation of older tokens) while the lock is held.
    assert statements == ["SELECT", "SELECT", "SELECT", "INSERT"], statements
    assert app.sql(
        "SELECT status, activated_at IS NOT NULL FROM queue_tokens WHERE user_id = 'burst-alone'"
    ) == [(ACTIVE, 1)]
