"""Getting through the booking service's waiting queue, as every protected call needs (B1, B12)."""

from __future__ import annotations

from loadtest.scenario import Session

POLL_SECONDS = 1.0  # a user polling their place; polling also keeps a WAITING token alive


def enter_queue(session: Session, user_id: str) -> str:
    """`user_id`'s ACTIVE token: ask for one, then poll until it is ACTIVE (not timed: these are
    the steps before the scenario's timed part). An expired token is replaced by a new one."""
    while True:
        issued = session.call(
            "POST",
            "/queue/token",
            expect=(201,),
            name="setup: POST /queue/token",
            measured=False,
            json={"userId": user_id},
        )
        if issued.status != 201:
            session.sleep(POLL_SECONDS)
            continue
        token = str(issued.body()["tokenValue"])
        status = str(issued.body().get("status"))
        while status == "WAITING":
            session.sleep(POLL_SECONDS)
            polled = session.call(
                "GET",
                "/queue/status",
                expect=(200,),
                name="setup: GET /queue/status",
                measured=False,
                headers={"X-Queue-Token": token},
            )
            status = str(polled.body().get("status")) if polled.status == 200 else "UNKNOWN"
        if status == "ACTIVE":
            return token
