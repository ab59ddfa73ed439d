"""S2, reservation stress (plan §2-3 scenario 2): users holding ACTIVE tokens race for the 50
seats of one popular schedule; a taken seat is a 409, never a 500."""

from __future__ import annotations

from typing import Any

from loadtest.queue import active_token
from loadtest.scenario import Fixtures, Scenario, Session
from loadtest.stages import Stage

NAME = "POST /reservations"
SEATS = 50  # "1~50번 좌석 랜덤"


class ReservationStressUser:
    def __init__(self) -> None:
        self.token = ""

    def start(self, session: Session) -> None:
        """The plan's getActiveToken(): an ACTIVE token obtained before the timed part."""
        self.token = active_token(session, session.user_id)

    def iteration(self, session: Session) -> None:
        seat = 1 + int(session.random() * session.params["seats"])
        answer = session.call(
            "POST",
            "/reservations",
            expect=(201, 409),
            name=NAME,
            json={
                "userId": session.user_id,
                "scheduleId": session.params["schedule_id"],
                "seatNo": seat,
            },
            headers={"X-Queue-Token": self.token},
            tag=f"seat {seat}",
        )
        if answer.status == 403:  # the token expired (a run longer than its TTL): queue again
            self.token = active_token(session, session.user_id, self.token)


def prepare(fixtures: Fixtures, stages: tuple[Stage, ...], think: float) -> dict[str, Any]:
    """A popular schedule of its own for this run, so its seats start AVAILABLE and the checks
    count only this run's reservations."""
    return {"schedule_id": fixtures.create_schedule(SEATS), "seats": SEATS}


def check(fixtures: Fixtures, params: dict[str, Any], client: dict[str, Any]) -> dict[str, Any]:
    """Exactly one winner per seat, asked of MariaDB, and every 201 matched by one reservation."""
    rows = fixtures.seat_outcomes(params["schedule_id"])
    wins = {
        int(tag.split()[1]): statuses.get("201", 0)
        for tag, statuses in client.get("tags", {}).items()
        if tag.startswith("seat ")
    }
    seats = set(rows) | set(wins)
    mismatched = sorted(s for s in seats if wins.get(s, 0) != rows.get(s, {}).get("rows", 0))
    return {
        "seats": {
            "schedule_id": params["schedule_id"],
            "seats": params["seats"],
            "seats_won": sum(1 for s in seats if rows.get(s, {}).get("rows", 0) > 0),
            "responses_201": sum(wins.values()),
            "reservations_in_db": sum(r["rows"] for r in rows.values()),
            "seats_sold_twice": sum(1 for r in rows.values() if r["overlapping"] > 0),
            "seats_201_mismatched": len(mismatched),
            "mismatched_seats": mismatched[:20],
        },
        "kafka": fixtures.outbox_delivery(client["started_at"], client["ended_at"]),
    }


SCENARIO = Scenario(
    name="reservation-stress",
    plan_id="S2",
    title="Reservation stress: → 50 → 100 → 200 users on 50 seats, 2 s think time",
    stages=(Stage(60, 50), Stage(180, 100), Stage(120, 200), Stage(60, 0)),
    think_seconds=2.0,
    visitor=ReservationStressUser,
    thresholds=(
        "p95_ms",
        "p99_ms",
        "error_rate_percent",
        "lock_success_percent",
        "seats_sold_twice",
        "seats_201_mismatched",
        "kafka_delivery_percent",
    ),
    measured=(NAME,),
    prepare=prepare,
    check=check,
    capacity_visitors=20,
)
