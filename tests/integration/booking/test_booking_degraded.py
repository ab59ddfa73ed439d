"""B8: with Redis stopped the breaker opens, degraded mode shows in a metric, answers stay quick,
the database still forbids a double booking, and a payment retried at once on several workers
is charged once and answered as a replay. Each test ends with every process back on Redis."""

from __future__ import annotations

import time

import httpx

from soundcheck.stack.stack import Stack
from tests.support.booking_instances import SEAT_PRICE, BookingInstance, concurrently
from tests.support.forced_overlap import overlap
from tests.support.polling import eventually

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
    booking.wait_until_back_on_redis()


def test_with_redis_down_a_payment_retried_on_several_workers_at_once_is_charged_once(
    booking: BookingInstance, stack: Stack
) -> None:
    """Each worker holds only its own in-process lock, so retries of one payment reach the
    database together. The later ones find the reservation CONFIRMED under its row lock; they
    were answered 409 "can no longer be paid" (a retry told its payment failed when it had
    succeeded), and must get the payment back as a replay."""
    user = "degraded-payer"
    with booking.client() as client:
        token = booking.active_token(client, user)
        booking.charge(client, user, 3 * SEAT_PRICE)
        held = [
            # schedule_3's seats 181-183: no other test takes them (schedule_6 is counted above)
            booking.reserve(client, token, user, seat, schedule_id="schedule_3")
            for seat in (181, 182, 183)
        ]
    stack.stop(["redis"])
    try:
        overlaps = []
        # Retries spread over the workers by the kernel: rounds until two workers overlap.
        for reservation in held:
            reservation_id = reservation["reservationId"]

            def pay(reservation_id: int = reservation_id) -> httpx.Response:
                with booking.client() as client:  # a connection each: spread over the workers
                    return client.post(
                        "/payments",
                        headers={"X-Queue-Token": token, "Idempotency-Key": f"dp-{reservation_id}"},
                        json={"reservationId": reservation_id, "amount": SEAT_PRICE},
                    )

            result = overlap(
                booking,
                "reservations",
                reservation_id,
                [pay] * 12,
                [f"SELECT %FROM reservations%WHERE reservations.id = {reservation_id} FOR UPDATE"],
            )
            overlaps.append(result)
            assert set(result.statuses) <= {201, 409}, [a.text for a in result.answers]
            assert set(result.errors) <= {"payment_in_progress"}, [a.text for a in result.answers]
            paid = [a for a in result.answers if a.status_code == 201]
            assert [a.headers["Idempotent-Replayed"] for a in paid].count("false") == 1
            assert len({a.json()["paymentId"] for a in paid}) == 1
            payments = booking.sql(
                "SELECT COUNT(*) FROM payments WHERE reservation_id = %s", reservation_id
            )
            assert payments[0][0] == 1
            if result.inside_at_once >= 2:
                break
        print(f"retries inside at once per round: {[o.inside_at_once for o in overlaps]}")
        assert max(o.inside_at_once for o in overlaps) >= 2, "never two workers at once"
    finally:
        stack.up(["redis"])
    booking.wait_until_back_on_redis()
    with booking.client() as client:
        assert booking.balance(client, user) == (3 - len(overlaps)) * SEAT_PRICE
