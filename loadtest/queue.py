"""Getting through the booking service's waiting queue, as every protected call needs (B1, B12).

A token is its user's identity and is handed out once (a second POST /queue/token for a user
holding a live one is a 409), so a virtual user keeps its token and asks for a new one only
when the old one has expired (a payment expires its payer's token)."""

from __future__ import annotations

from loadtest.scenario import Session

POLL_SECONDS = 1.0  # a user polling their place; polling also keeps a WAITING token alive
WAITING, ACTIVE = "WAITING", "ACTIVE"


def poll(session: Session, token: str) -> str:
    polled = session.call(
        "GET",
        "/queue/status",
        expect=(200,),
        name="setup: GET /queue/status",
        measured=False,
        headers={"X-Queue-Token": token},
    )
    return str(polled.body().get("status")) if polled.status == 200 else "UNKNOWN"


def active_token(session: Session, user_id: str, token: str | None = None) -> str:
    """`user_id`'s ACTIVE token: `token` if it still is (or once it is), else a new one, waited
    for until ACTIVE. Not timed: these are the steps before the scenario's timed part."""
    while True:
        if token is None:
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
        else:
            status = poll(session, token)
        while status == WAITING:
            session.sleep(POLL_SECONDS)
            status = poll(session, token)
        if status == ACTIVE:
            return token
        token = None  # expired (or unknown): queue again
