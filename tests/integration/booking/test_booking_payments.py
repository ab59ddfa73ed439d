"""B4/B5: concurrent payments of one user are exact and never negative; retries charge once."""

from __future__ import annotations

import httpx

from tests.support.booking_instances import SEAT_PRICE, BookingInstance, concurrently


def test_one_user_paying_several_reservations_at_once_is_exact(
    booking: BookingInstance,
) -> None:
    user = "pays-five"
    with booking.client() as client:
        token = booking.active_token(client, user)
        booking.charge(client, user, 3 * SEAT_PRICE)  # enough for three of the five
        reservations = [
            booking.reserve(client, token, user, seat, schedule_id="schedule_3")
            for seat in range(1, 6)
        ]

    def pay(i: int) -> httpx.Response:
        """Like a real client: a 409 payment_in_progress is retried with the same key."""
        with booking.client() as client:
            for _ in range(10):
                answer = client.post(
                    "/payments",
                    headers={"X-Queue-Token": token, "Idempotency-Key": f"five-{i}"},
                    json={"reservationId": reservations[i]["reservationId"], "amount": SEAT_PRICE},
                )
                if answer.json().get("error") != "payment_in_progress":
                    break
            return answer

    answers = concurrently(len(reservations), pay)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 201, 201, 402, 402], [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 402:
            assert answer.json()["error"] == "insufficient_points"
    with booking.client() as client:
        assert booking.balance(client, user) == 0
    history = booking.sql("SELECT SUM(delta) FROM point_history WHERE user_id = %s", user)
    assert int(history[0][0]) == 0
    paid = booking.sql("SELECT COUNT(*), SUM(amount) FROM payments WHERE user_id = %s", user)
    assert (paid[0][0], int(paid[0][1])) == (3, 3 * SEAT_PRICE)


def test_same_payment_retried_is_charged_once(booking: BookingInstance) -> None:
    # Right after a Redis outage test a worker could still be degraded (its breaker open) while
    # /ready, answered by another, said Redis was up; its in-process lock then let a retry into
    # the database beside the first payment, which answered it 409 "can no longer be paid".
    # Outage tests now end with every process back on Redis; this one starts from there too.
    booking.wait_until_back_on_redis()
    user = "retries-a-lot"
    with booking.client() as client:
        token = booking.active_token(client, user)
        booking.charge(client, user, 2 * SEAT_PRICE)
        reservation = booking.reserve(client, token, user, 1, schedule_id="schedule_4")

    def pay(_: int) -> httpx.Response:
        with booking.client() as client:
            return client.post(
                "/payments",
                headers={"X-Queue-Token": token, "Idempotency-Key": "retry-me-1"},
                json={"reservationId": reservation["reservationId"], "amount": SEAT_PRICE},
            )

    answers = concurrently(8, pay)  # a client retrying while the first is still in flight
    answers.append(pay(0))  # and once more, long after it completed
    # A retry that arrives while the first holds the lock may be told to retry (409); none is
    # ever charged again, and every one that answers 201 names the same payment.
    assert all(
        a.status_code == 201 or a.json()["error"] == "payment_in_progress" for a in answers
    ), [a.text for a in answers]
    answers = [a for a in answers if a.status_code == 201]
    assert answers[-1].headers["Idempotent-Replayed"] == "true"
    assert len({a.json()["paymentId"] for a in answers}) == 1
    replays = [a.headers["Idempotent-Replayed"] for a in answers]
    assert replays.count("false") == 1
    with booking.client() as client:
        assert booking.balance(client, user) == SEAT_PRICE
    rows = booking.sql("SELECT COUNT(*) FROM payments WHERE user_id = %s", user)
    assert rows[0][0] == 1


def test_payment_with_wrong_amount_is_400_and_charges_nothing(booking: BookingInstance) -> None:
    user = "wrong-amount"
    with booking.client() as client:
        token = booking.active_token(client, user)
        booking.charge(client, user, SEAT_PRICE)
        reservation = booking.reserve(client, token, user, 2, schedule_id="schedule_4")
        answer = client.post(
            "/payments",
            headers={"X-Queue-Token": token},
            json={"reservationId": reservation["reservationId"], "amount": 1},
        )
        assert answer.status_code == 400
        assert "does not match" in answer.json()["message"]
        assert booking.balance(client, user) == SEAT_PRICE


def test_many_users_finishing_at_once_all_get_their_payment_answered(
    booking: BookingInstance,
) -> None:
    """Each payment expires its user's token and lets the next one in. Done as two transactions
    locking queue_tokens' rows in opposite orders (by token, and by status), payments finishing
    together deadlocked in MariaDB and a committed payment was answered 503."""
    users = [f"finisher-{i}" for i in range(40)]
    with booking.client() as client:
        tokens = [booking.active_token(client, user) for user in users]
        for user in users:
            booking.charge(client, user, SEAT_PRICE)
        reservations = [
            booking.reserve(client, tokens[i], user, 101 + i, schedule_id="schedule_5")
            for i, user in enumerate(users)
        ]

    def pay(i: int) -> httpx.Response:
        with booking.client() as client:
            return client.post(
                "/payments",
                headers={"X-Queue-Token": tokens[i], "Idempotency-Key": f"finisher-{i}"},
                json={"reservationId": reservations[i]["reservationId"], "amount": SEAT_PRICE},
            )

    answers = concurrently(len(users), pay)
    assert [a.status_code for a in answers] == [201] * len(users), [
        a.text for a in answers if a.status_code != 201
    ]
    left_active = booking.sql(
        "SELECT COUNT(*) FROM queue_tokens WHERE status = 'ACTIVE' AND user_id LIKE 'finisher-%%'"
    )
    assert left_active[0][0] == 0  # every finished user's place went to the next one
