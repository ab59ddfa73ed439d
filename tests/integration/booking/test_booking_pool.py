"""B10 and plan FP#2: when every database connection is taken, requests get a clear 503 within
the acquire timeout instead of hanging, and the service recovers when connections come back; a
request stuck behind a row lock answers 503 after the service's lock wait, not MariaDB's 50 s."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from booking_app.settings import BookingSettings
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack
from tests.support.booking_instances import BookingInstance, start_instance, stop_instance
from tests.support.polling import eventually

ACQUIRE_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def small_pool(stack: Stack, settings: StackSettings) -> Iterator[BookingInstance]:
    instance = start_instance(
        settings,
        "pool",
        redis_db=2,
        BOOKING_WORKERS="1",
        BOOKING_POOL_SIZE="1",
        BOOKING_POOL_MAX_OVERFLOW="0",
        BOOKING_POOL_QUEUE_LIMIT="5",
        BOOKING_POOL_ACQUIRE_TIMEOUT_SECONDS=str(ACQUIRE_TIMEOUT),
        BOOKING_RUN_WORKER="0",
        # The charge below must outwait the test's row lock (the next test: the default).
        BOOKING_LOCK_WAIT_TIMEOUT_SECONDS="60",
    )
    yield instance
    stop_instance(instance)


# A long transaction holding a user's points row (inserted or not yet, uncommitted either way):
# that user's charge waits on it, holding a pooled connection, as behind a slow query.
LOCK_POINTS_ROW = (
    "INSERT INTO user_points (user_id, balance, updated_at) VALUES (%s, 0, UTC_TIMESTAMP(6)) "
    "ON DUPLICATE KEY UPDATE balance = balance"
)


def test_exhausted_pool_answers_503_within_the_acquire_timeout(small_pool: BookingInstance) -> None:
    with small_pool.client() as client:
        someone = small_pool.as_user(client, "someone")  # reading their points needs it (B12)
        hog = small_pool.as_user(client, "hog")
    blocker = app_connection(small_pool.settings, small_pool.database, autocommit=False)
    stuck: list[httpx.Response] = []
    try:
        with blocker.cursor() as cursor:
            # Hold hog's points row: hog's charge keeps the pool's only connection busy,
            # waiting for this lock, like a slow query would.
            cursor.execute(LOCK_POINTS_ROW, ("hog",))
            holder = threading.Thread(
                target=lambda: stuck.append(
                    httpx.post(
                        f"{small_pool.url}/users/hog/points/charge",
                        headers=hog,
                        json={"amount": 1000},
                        timeout=60,
                    )
                )
            )
            holder.start()
            eventually(
                lambda: (
                    small_pool.sql(
                        "SELECT COUNT(*) FROM information_schema.processlist "
                        "WHERE info LIKE %s AND id <> CONNECTION_ID()",
                        "%INSERT INTO user_points%",
                    )[0][0]
                    >= 1
                ),
                20,
                "the charge waits for the row lock, holding the only connection",
            )
            started = time.monotonic()
            answer = httpx.get(
                f"{small_pool.url}/users/someone/points", headers=someone, timeout=30
            )
            waited = time.monotonic() - started
            assert answer.status_code == 503
            assert answer.json()["error"] == "database_busy"
            assert "Retry" in answer.json()["message"]
            assert answer.headers["Retry-After"] == "1"
            assert waited < ACQUIRE_TIMEOUT + 3.0, f"waited {waited:.1f} s: that is a hang"
            assert (small_pool.metric("db_pool_exhausted_total") or 0) >= 1
        blocker.rollback()
        holder.join(timeout=60)
    finally:
        blocker.close()
    assert stuck
    assert stuck[0].status_code == 200, stuck[0].text
    recovered = httpx.get(f"{small_pool.url}/users/someone/points", headers=someone, timeout=10)
    assert recovered.status_code == 200


def test_a_request_stuck_behind_a_row_lock_answers_503_after_the_lock_wait(
    booking: BookingInstance,
) -> None:
    lock_wait = BookingSettings.model_fields["lock_wait_timeout_seconds"].default
    before = booking.metric("db_lock_wait_timeouts_total") or 0
    with booking.client() as client:
        caller = booking.as_user(client, "behind-a-lock")
    charge = f"{booking.url}/users/behind-a-lock/points/charge"
    blocker = app_connection(booking.settings, booking.database, autocommit=False)
    try:
        with blocker.cursor() as cursor:
            # A long transaction holding the user's points row: their charge waits on it.
            # MariaDB's own lock wait (50 s) would outlast the client's 30 s.
            cursor.execute(LOCK_POINTS_ROW, ("behind-a-lock",))
            answer = httpx.post(charge, headers=caller, json={"amount": 1000}, timeout=30)
    finally:
        blocker.rollback()
        blocker.close()
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "database_rows_locked"
    assert f"over {lock_wait} s" in answer.json()["message"]
    assert answer.headers["Retry-After"] == "1"
    assert (booking.metric("db_lock_wait_timeouts_total") or 0) == before + 1
    again = httpx.post(charge, headers=caller, json={"amount": 1000}, timeout=30)
    assert again.status_code == 200, again.text  # nothing was left half done
    assert again.json()["balance"] == 1000
