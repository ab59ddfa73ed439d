"""S3, payment soak (plan §2-3 scenario 3): 50 users for minutes, each iteration reserves a seat
and pays for it; points must be exact and the service's memory must not grow."""

from __future__ import annotations

import math
from typing import Any

from loadtest.queue import active_token
from loadtest.scenario import Fixtures, Scenario, Session
from loadtest.stages import Stage, peak_users, total_seconds

RESERVE, PAY = "POST /reservations", "POST /payments"
SEAT_TRIES = 5


class PaymentSoakUser:
    def __init__(self) -> None:
        self.paid = 0
        self.token: str | None = None

    def start(self, session: Session) -> None:
        """Each iteration queues again: a completed payment expires the payer's token."""

    def iteration(self, session: Session) -> None:
        self.token = active_token(session, session.user_id, self.token)
        headers = {"X-Queue-Token": self.token}
        reservation = self._reserve(session, headers)
        if reservation is None:
            return
        price = int(reservation["price"])
        charged = session.call(
            "POST",
            f"/users/{session.user_id}/points/charge",
            expect=(200,),
            name="setup: POST /users/{id}/points/charge",
            measured=False,
            json={"amount": price},
            headers=headers,
        )
        if charged.status != 200:
            return
        self.paid += 1
        session.call(
            "POST",
            "/payments",
            expect=(201,),
            name=PAY,
            json={"reservationId": reservation["reservationId"], "amount": price},
            headers={**headers, "Idempotency-Key": f"{session.user_id}-{self.paid}"},
            require=("status", "SUCCESS"),
        )

    def _reserve(self, session: Session, headers: dict[str, str]) -> dict[str, Any] | None:
        """A free seat of the run's schedule (another one after a 409)."""
        for _ in range(SEAT_TRIES):
            seat = 1 + int(session.random() * session.params["seats"])
            answer = session.call(
                "POST",
                "/reservations",
                expect=(201, 409),
                name=RESERVE,
                json={
                    "userId": session.user_id,
                    "scheduleId": session.params["schedule_id"],
                    "seatNo": seat,
                },
                headers=headers,
            )
            if answer.status == 201:
                return answer.body()
        return None


def prepare(fixtures: Fixtures, stages: tuple[Stage, ...], think: float) -> dict[str, Any]:
    """A schedule with more seats than the run can buy: users x duration / think, twice over."""
    iterations = peak_users(stages) * total_seconds(stages) / max(think, 1.0)
    seats = min(50_000, max(100, math.ceil(2 * iterations)))
    return {"schedule_id": fixtures.create_schedule(seats), "seats": seats}


def check(fixtures: Fixtures, params: dict[str, Any], client: dict[str, Any]) -> dict[str, Any]:
    rows = fixtures.seat_outcomes(params["schedule_id"])
    return {
        "points": fixtures.points_mismatches(client["user_prefix"]),
        "seats": {
            "schedule_id": params["schedule_id"],
            "seats": params["seats"],
            "reservations_in_db": sum(r["rows"] for r in rows.values()),
            "seats_sold_twice": sum(1 for r in rows.values() if r["overlapping"] > 0),
        },
        "kafka": fixtures.outbox_delivery(client["started_at"], client["ended_at"]),
    }


SCENARIO = Scenario(
    name="payment-soak",
    plan_id="S3",
    title="Payment soak: → 50 users in 2 min, 50 held 5 min; reserve then pay, 5 s think time",
    stages=(Stage(120, 50), Stage(300, 50)),
    think_seconds=5.0,
    visitor=PaymentSoakUser,
    thresholds=(
        "p95_ms",
        "p99_ms",
        "error_rate_percent",
        "lock_success_percent",
        "points_mismatches",
        "kafka_delivery_percent",
        "memory_growth_percent",
    ),
    measured=(RESERVE, PAY),
    prepare=prepare,
    check=check,
    capacity_visitors=0,
    fresh_arrivals=True,  # a drill's payments at a fixed rate: each arrival a new payer
)
