"""B3: one winner per seat under contention, clear 409s, never a 5xx; the database agrees."""

from __future__ import annotations

import httpx

from tests.support.booking_instances import BookingInstance, concurrently

CONTENDERS = 100


def test_hundred_concurrent_reservations_of_one_seat_give_one_201(
    booking: BookingInstance,
) -> None:
    with booking.client() as client:
        tokens = [booking.active_token(client, f"rush-{i}") for i in range(CONTENDERS)]

    def attempt(i: int) -> httpx.Response:
        with booking.client() as client:
            return client.post(
                "/reservations",
                headers={"X-Queue-Token": tokens[i]},
                json={"userId": f"rush-{i}", "scheduleId": "schedule_popular", "seatNo": 17},
            )

    answers = concurrently(CONTENDERS, attempt)
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == CONTENDERS - 1, statuses
    for answer in answers:
        if answer.status_code == 409:
            body = answer.json()
            assert body["error"] in ("seat_taken", "seat_busy")
            assert "Seat 17" in body["message"]
    rows = booking.sql(
        "SELECT COUNT(*) FROM reservations r JOIN seats s ON s.id = r.seat_id "
        "WHERE s.schedule_id = 'schedule_popular' AND s.seat_no = 17"
    )
    assert rows[0][0] == 1


def test_second_booking_of_same_seat_gets_409_with_a_sentence(booking: BookingInstance) -> None:
    with booking.client() as client:
        first = booking.active_token(client, "seat-owner")
        second = booking.active_token(client, "seat-latecomer")
        booking.reserve(client, first, "seat-owner", 3, schedule_id="schedule_2")
        answer = client.post(
            "/reservations",
            headers={"X-Queue-Token": second},
            json={"userId": "seat-latecomer", "scheduleId": "schedule_2", "seatNo": 3},
        )
    assert answer.status_code == 409
    assert answer.json() == {
        "error": "seat_taken",
        "message": "Seat 3 of schedule 'schedule_2' is already reserved. Pick another seat.",
    }


def test_reservation_without_active_token_is_403_with_a_sentence(
    booking: BookingInstance,
) -> None:
    with booking.client() as client:
        answer = client.post(
            "/reservations", json={"userId": "no-token", "scheduleId": "schedule_1", "seatNo": 1}
        )
    assert answer.status_code == 403
    assert "X-Queue-Token" in answer.json()["message"]
