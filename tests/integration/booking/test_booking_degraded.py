"""B8: with Redis stopped the breaker opens, degraded mode shows in a metric, answers stay quick,
and the database still forbids a double booking."""

from __future__ import annotations

import time

import httpx
from conftest import BookingInstance, concurrently
from test_real_parts import eventually

from soundcheck.stack.stack import Stack

SEATS = 10
CONTENDERS_PER_SEAT = 4


def test_redis_down_opens_breaker_and_never_double_books(
    booking: BookingInstance, stack: Stack
) -> None:
    users = [f"degraded-{i}" for i in range(SEATS * CONTENDERS_PER_SEAT)]
    with booking.client() as client:
        tokens = [booking.active_token(client, user) for user in users]
    stack.stop(["redis"])
    try:

        def attempt(i: int) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            with booking.client() as client:
                answer = client.post(
                    "/reservations",
                    headers={"X-Queue-Token": tokens[i]},
                    json={"userId": users[i], "scheduleId": "schedule_6", "seatNo": i % SEATS + 1},
                )
            return answer, time.monotonic() - started

        results = concurrently(len(users), attempt)
        statuses = [answer.status_code for answer, _ in results]
        assert all(s in (201, 409) for s in statuses), [a.text for a, _ in results]
        assert statuses.count(201) == SEATS
        per_seat = booking.sql(
            "SELECT s.seat_no, COUNT(*) FROM reservations r JOIN seats s ON s.id = r.seat_id "
            "WHERE s.schedule_id = 'schedule_6' GROUP BY s.seat_no"
        )
        assert sorted(per_seat) == [(seat, 1) for seat in range(1, SEATS + 1)]

        ready = httpx.get(f"{booking.url}/ready", timeout=10).json()
        assert ready["status"] == "degraded"
        assert ready["dependencies"]["redis"]["status"] == "down"
        eventually(
            lambda: booking.metric('degraded_mode_active{component="redis"}') == 1.0,
            20,
            "degraded_mode_active{component=redis} is 1 while Redis is down",
        )
        eventually(
            lambda: (booking.metric('circuit_breaker_state{breaker="redis"}') or 0) >= 1.0,
            20,
            "the Redis circuit breaker is reported open",
        )
        # Quick answers: with the breaker open a read does not wait for Redis at all.
        with booking.client(timeout=5) as client:
            answer = client.get("/concerts/schedules/schedule_6/seats")
        assert answer.status_code == 200
        assert answer.headers["X-Cache-Hit"] == "false"
    finally:
        stack.up(["redis"])
    eventually(
        lambda: (
            httpx.get(f"{booking.url}/ready", timeout=10).json()["dependencies"]["redis"]["status"]
            == "up"
        ),
        30,
        "the service uses Redis again after it is back (breaker half-open, then closed)",
    )
