"""B12: the queue token says who calls. A user's reservations, payments, point charges and data
need that user's own token (403 otherwise, with a sentence); a token is handed out only once;
WAITING tokens that nobody polls expire, and the expiry is counted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
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

WAITING_TTL_SECONDS = 6
SCHEDULE = "schedule_1"  # seats 191-195: no other test of the session instance takes them


def assert_refused(answer: httpx.Response, error: str) -> None:
    assert answer.status_code == 403, answer.text
    body = answer.json()
    assert body["error"] == error, body
    assert body["message"].endswith("."), body  # a sentence, not a code


def owned_reservation(
    booking: BookingInstance, client: httpx.Client, user: str, seat: int
) -> dict[str, Any]:
    """`user` holds seat `seat` of SCHEDULE and has the points to pay it."""
    token = booking.active_token(client, user)
    booking.charge(client, user, SEAT_PRICE)
    return booking.reserve(client, token, user, seat, schedule_id=SCHEDULE)


def test_another_users_token_is_403_on_reserve_pay_charge_and_read(
    booking: BookingInstance,
) -> None:
    with booking.client() as client:
        reservation = owned_reservation(booking, client, "id-alice", 191)
        mallory = {"X-Queue-Token": booking.active_token(client, "id-mallory")}
        attempts = {
            "reserve": client.post(
                "/reservations",
                headers=mallory,
                json={"userId": "id-alice", "scheduleId": SCHEDULE, "seatNo": 192},
            ),
            "pay": client.post(
                "/payments",
                headers=mallory,
                json={"reservationId": reservation["reservationId"], "amount": SEAT_PRICE},
            ),
            "charge": client.post(
                "/users/id-alice/points/charge", headers=mallory, json={"amount": 39_000_000}
            ),
            "read points": client.get("/users/id-alice/points", headers=mallory),
            "read reservation": client.get(
                f"/reservations/{reservation['reservationId']}", headers=mallory
            ),
        }
        for answer in attempts.values():
            assert_refused(answer, "queue_token_of_another_user")
        assert booking.balance(client, "id-alice") == SEAT_PRICE  # nothing charged, nothing paid
        assert booking.balance(client, "id-mallory") == 0

        # Alice pays; Mallory replaying her payment learns nothing about it either.
        alice = booking.as_user(client, "id-alice")
        body = {"reservationId": reservation["reservationId"], "amount": SEAT_PRICE}
        assert client.post("/payments", headers=alice, json=body).status_code == 201
        assert_refused(
            client.post("/payments", headers=mallory, json=body), "queue_token_of_another_user"
        )
    assert booking.sql("SELECT COUNT(*) FROM payments WHERE user_id = 'id-mallory'") == [(0,)]
    seat_taken_for_alice = booking.sql(
        "SELECT COUNT(*) FROM reservations WHERE schedule_id = %s AND seat_no = 192", SCHEDULE
    )
    assert seat_taken_for_alice == [(0,)]


def test_no_token_or_an_unknown_one_is_403_on_reserve_pay_charge_and_read(
    booking: BookingInstance,
) -> None:
    with booking.client() as client:
        reservation = owned_reservation(booking, client, "id-bob", 193)
        for headers in ({}, {"X-Queue-Token": "0" * 32}, {"X-Queue-Token": "not-a-token"}):
            answers = [
                client.post(
                    "/reservations",
                    headers=headers,
                    json={"userId": "id-bob", "scheduleId": SCHEDULE, "seatNo": 194},
                ),
                client.post(
                    "/payments",
                    headers=headers,
                    json={"reservationId": reservation["reservationId"], "amount": SEAT_PRICE},
                ),
                client.post("/users/id-bob/points/charge", headers=headers, json={"amount": 1000}),
                client.get("/users/id-bob/points", headers=headers),
                client.get(f"/reservations/{reservation['reservationId']}", headers=headers),
            ]
            for answer in answers:
                assert_refused(answer, "queue_token_not_active")
                assert "X-Queue-Token" in answer.json()["message"]
        assert booking.balance(client, "id-bob") == SEAT_PRICE


def test_own_token_reads_own_reservation_and_points(booking: BookingInstance) -> None:
    with booking.client() as client:
        reservation = owned_reservation(booking, client, "id-carol", 195)
        carol = booking.as_user(client, "id-carol")
        read = client.get(f"/reservations/{reservation['reservationId']}", headers=carol)
        assert read.status_code == 200, read.text
        assert read.json()["userId"] == "id-carol"
        points = client.get("/users/id-carol/points", headers=carol)
        assert points.json() == {"userId": "id-carol", "balance": SEAT_PRICE}


def test_a_users_live_token_is_never_handed_out_again(booking: BookingInstance) -> None:
    with booking.client() as client:
        token = booking.active_token(client, "id-dave")
        again = client.post("/queue/token", json={"userId": "id-dave"})
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "queue_token_already_issued"
    assert "X-Queue-Token" in again.json()["message"]
    assert token not in again.text


@pytest.fixture(scope="module")
def one_place(stack: Stack, settings: StackSettings) -> Iterator[BookingInstance]:
    """One ACTIVE place, so later tokens wait; WAITING tokens live a few seconds unpolled."""
    instance = start_instance(
        settings,
        "identity",
        redis_db=11,
        BOOKING_MAX_ACTIVE_TOKENS="1",
        BOOKING_ACTIVATION_INTERVAL_SECONDS="1",
        BOOKING_WAITING_TOKEN_TTL_SECONDS=str(WAITING_TTL_SECONDS),
    )
    yield instance
    stop_instance(instance)


def test_unpolled_waiting_token_expires_and_is_counted_while_a_polled_one_keeps_its_place(
    one_place: BookingInstance,
) -> None:
    app = one_place
    with app.client() as client:
        app.active_token(client, "holds-the-place")
        gone = app.user_token(client, "walked-away")  # first in line, never polls again
        stays = app.user_token(client, "keeps-polling")
        assert client.get("/queue/status", headers={"X-Queue-Token": stays}).json() == {
            "status": "WAITING",
            "position": 2,
        }

        def first_in_line() -> bool:
            # Polling, as a waiting user's client does, is what keeps this token alive.
            status = client.get("/queue/status", headers={"X-Queue-Token": stays}).json()
            assert status["status"] == "WAITING", status
            return bool(status["position"] == 1)

        eventually(first_in_line, 60, "the unpolled token ahead leaves the queue")
        status = app.sql("SELECT status FROM queue_tokens WHERE token = %s", gone)
        assert status == [("EXPIRED",)]
        expired = 'queue_tokens_expired_total{status="WAITING"}'
        assert app.metric(expired) == 1.0, "exactly one WAITING token expired, and it is counted"
        # The user who walked away may come back: their old token is gone, a new one is given.
        assert client.post("/queue/token", json={"userId": "walked-away"}).status_code == 201
