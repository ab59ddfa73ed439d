"""B1: a completed payment or an expired token activates the next waiting token at once, not
after the timer; an unpaid reservation's seat comes back after its hold time (B3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.booking_instances import (
    SEAT_PRICE,
    BookingInstance,
    start_instance,
    stop_instance,
)
from tests.support.polling import eventually


@pytest.fixture(scope="module")
def two_places(stack: Stack, settings: StackSettings) -> Iterator[BookingInstance]:
    instance = start_instance(
        settings,
        "queue",
        redis_db=3,
        BOOKING_MAX_ACTIVE_TOKENS="2",
        BOOKING_ACTIVATION_INTERVAL_SECONDS="3600",  # the timer never fires during the test
        BOOKING_ACTIVE_TOKEN_TTL_SECONDS="8",
        BOOKING_HOLD_TTL_SECONDS="3",
        BOOKING_HOLD_SWEEP_INTERVAL_SECONDS="0.5",
    )
    yield instance
    stop_instance(instance)


def test_completed_payment_activates_next_waiting_token_at_once(
    two_places: BookingInstance,
) -> None:
    app = two_places
    with app.client() as client:
        first = app.active_token(client, "first-in-line")
        app.active_token(client, "second-in-line")
        waiting = client.post("/queue/token", json={"userId": "third-in-line"}).json()
        assert (waiting["status"], waiting["position"]) == ("WAITING", 1)
        status = client.get("/queue/status", headers={"X-Queue-Token": waiting["tokenValue"]})
        assert status.json() == {"status": "WAITING", "position": 1}

        app.charge(client, "first-in-line", SEAT_PRICE)
        reservation = app.reserve(client, first, "first-in-line", 1)
        paid = client.post(
            "/payments",
            headers={"X-Queue-Token": first},
            json={"reservationId": reservation["reservationId"], "amount": SEAT_PRICE},
        )
        assert paid.status_code == 201, paid.text
        # No waiting: the payment's own request activated the next token before it answered.
        status = client.get("/queue/status", headers={"X-Queue-Token": waiting["tokenValue"]})
        assert status.json() == {"status": "ACTIVE", "position": 0}
        done = client.get("/queue/status", headers={"X-Queue-Token": first})
        assert done.json()["status"] == "EXPIRED"


def test_unpaid_reservation_expires_and_its_seat_is_free_again(
    two_places: BookingInstance,
) -> None:
    app = two_places
    with app.client() as client:
        token = app.active_token(client, "second-in-line")
        app.reserve(client, token, "second-in-line", 9)

        def seat_nine() -> str:
            seats = client.get("/concerts/schedules/schedule_1/seats").json()["seats"]
            return str(next(s["status"] for s in seats if s["seatNo"] == 9))

        eventually(
            lambda: seat_nine() == "AVAILABLE",
            20,
            "the unpaid seat is AVAILABLE again after its 3 s hold",
        )
    rows = app.sql("SELECT status, active_seat_id FROM reservations WHERE seat_no = 9")
    assert rows == [("EXPIRED", None)]


def test_expired_token_activates_the_next_one_without_waiting_for_the_timer(
    two_places: BookingInstance,
) -> None:
    app = two_places
    with app.client() as client:
        statuses = [
            client.post("/queue/token", json={"userId": f"expiry-{i}"}).json() for i in range(4)
        ]
        waiting = [s for s in statuses if s["status"] == "WAITING"]
        assert waiting, statuses

        def first_waiting_is_active() -> bool:
            answer = client.get(
                "/queue/status", headers={"X-Queue-Token": waiting[0]["tokenValue"]}
            )
            return bool(answer.json()["status"] == "ACTIVE")

        # Active tokens live 8 s here and the timer is an hour: only expiry can activate it.
        eventually(first_waiting_is_active, 30, "a token expires and the next one is activated")
