"""B2: reads come from the cache (X-Cache-Hit), and an admin change is visible on the next read."""

from __future__ import annotations

from tests.support.booking_instances import BookingInstance


def test_admin_change_to_schedule_is_seen_by_the_next_read(booking: BookingInstance) -> None:
    with booking.client() as client:
        client.get("/concerts/concert_3/schedules")
        cached = client.get("/concerts/concert_3/schedules")
        assert cached.headers["X-Cache-Hit"] == "true"

        changed = client.patch(
            "/admin/schedules/schedule_3",
            headers=booking.admin_headers(),
            json={"venue": "Jamsil Arena", "startsAt": "2027-05-05T18:30:00Z"},
        )
        assert changed.status_code == 200, changed.text

        fresh = client.get("/concerts/concert_3/schedules")
        assert fresh.headers["X-Cache-Hit"] == "false"
        schedule = next(s for s in fresh.json()["schedules"] if s["scheduleId"] == "schedule_3")
        assert schedule["venue"] == "Jamsil Arena"
        assert schedule["startsAt"] == "2027-05-05T18:30:00Z"
        assert client.get("/concerts/concert_3/schedules").headers["X-Cache-Hit"] == "true"


def test_admin_seat_price_change_is_seen_by_the_next_seat_read(booking: BookingInstance) -> None:
    with booking.client() as client:
        client.get("/concerts/schedules/schedule_2/seats")
        assert client.get("/concerts/schedules/schedule_2/seats").headers["X-Cache-Hit"] == "true"
        changed = client.patch(
            "/admin/schedules/schedule_2/seats/150",
            headers=booking.admin_headers(),
            json={"price": 77000},
        )
        assert changed.status_code == 200, changed.text
        fresh = client.get("/concerts/schedules/schedule_2/seats")
        assert fresh.headers["X-Cache-Hit"] == "false"
        seat = next(s for s in fresh.json()["seats"] if s["seatNo"] == 150)
        assert seat["price"] == 77000


def test_admin_api_without_the_token_is_401(booking: BookingInstance) -> None:
    with booking.client() as client:
        answer = client.patch("/admin/schedules/schedule_3", json={"venue": "Nowhere"})
    assert answer.status_code == 401
    assert "Bearer" in answer.json()["message"]
