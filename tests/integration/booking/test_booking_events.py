"""B7: payments made while Kafka is down reach the data-platform sink exactly once afterwards."""

from __future__ import annotations

from soundcheck.stack.stack import Stack
from tests.support.booking_instances import SEAT_PRICE, BookingInstance
from tests.support.polling import eventually

PAYMENTS_WHILE_DOWN = 5


def pay_one(booking: BookingInstance, user: str, seat: int) -> int:
    with booking.client() as client:
        token = booking.active_token(client, user)
        booking.charge(client, user, SEAT_PRICE)
        reservation = booking.reserve(client, token, user, seat, schedule_id="schedule_5")
        answer = client.post(
            "/payments",
            headers={"X-Queue-Token": token},
            json={"reservationId": reservation["reservationId"], "amount": SEAT_PRICE},
        )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["paymentId"])


def sink_counts(booking: BookingInstance, payment_ids: list[int]) -> dict[int, int]:
    rows = booking.sql(
        "SELECT CAST(JSON_VALUE(payload, '$.paymentId') AS UNSIGNED), COUNT(*) "
        "FROM data_platform_events WHERE topic = 'payment.completed' GROUP BY 1"
    )
    counts = {int(pid): int(n) for pid, n in rows}
    return {pid: counts.get(pid, 0) for pid in payment_ids}


def test_payments_while_kafka_is_down_reach_the_sink_exactly_once(
    booking: BookingInstance, stack: Stack
) -> None:
    before = pay_one(booking, "kafka-up-0", 1)
    eventually(
        lambda: sink_counts(booking, [before])[before] == 1,
        30,
        "a payment reaches the sink while Kafka is up",
    )
    stack.stop(["kafka"])
    try:
        paid = [pay_one(booking, f"kafka-down-{i}", 10 + i) for i in range(PAYMENTS_WHILE_DOWN)]
        pending = booking.sql(
            "SELECT COUNT(*) FROM outbox_events "
            "WHERE published_at IS NULL AND topic = 'payment.completed'"
        )
        assert pending[0][0] >= PAYMENTS_WHILE_DOWN  # kept in the outbox, not lost
    finally:
        stack.up(["kafka"])
    eventually(
        lambda: all(n >= 1 for n in sink_counts(booking, paid).values()),
        90,
        "every payment made while Kafka was down reaches the data-platform sink",
    )
    assert set(sink_counts(booking, [before, *paid]).values()) == {1}

    def concert_2_bookings() -> int:
        ranking = booking.client().get("/concerts/ranking").json()
        return int({r["concertId"]: r["bookings"] for r in ranking["ranking"]}.get("concert_2", 0))

    # The ranking consumer is a group of its own: the sink having caught up says nothing of it.
    eventually(
        lambda: concert_2_bookings() >= PAYMENTS_WHILE_DOWN + 1,  # schedule_5 is concert_2's
        90,
        "every payment made while Kafka was down counted in the ranking",
    )
