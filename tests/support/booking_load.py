"""A short, bounded load through the real booking service, so every dashboard panel has data."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import expire_queue_tokens
from tests.support.booking_instances import SEAT_PRICE

SCHEDULE = "schedule_popular"
CUSTOMER_PREFIX = "alerting-"  # every customer one_customer makes


def one_customer(
    base_url: str, run: str, number: int, failures: list[str] | None = None
) -> list[int]:
    """Queue token, concert reads, points, a reservation (or 409) and its payment. Each answer
    of 500 or more is added to `failures` as 'METHOD path: status body', so that a test's
    failure says which request failed and why, not only that one did."""
    user = f"{CUSTOMER_PREFIX}{run}-{number}"
    codes = []

    def note_failure(response: httpx.Response) -> None:
        if response.status_code >= 500 and failures is not None:
            response.read()
            request = response.request
            failures.append(
                f"{request.method} {request.url.path}: {response.status_code} {response.text}"
            )

    hooks = {"response": [note_failure]}
    with httpx.Client(base_url=base_url, timeout=30, event_hooks=hooks) as client:
        token = client.post("/queue/token", json={"userId": user})
        codes.append(token.status_code)
        headers = {"X-Queue-Token": token.json().get("tokenValue", "")}
        codes.append(client.get("/queue/status", headers=headers).status_code)
        for _ in range(3):
            codes.append(client.get("/concerts").status_code)
            codes.append(client.get(f"/concerts/schedules/{SCHEDULE}/seats").status_code)
        codes.append(client.get("/concerts/ranking").status_code)
        codes.append(
            client.post(
                f"/users/{user}/points/charge", headers=headers, json={"amount": SEAT_PRICE}
            ).status_code
        )
        # Two customers in three aim at the same few seats, so the seat locks see contention.
        seat = random.randint(1, 5) if number % 3 else random.randint(1, 50)
        reservation = client.post(
            "/reservations",
            headers=headers,
            json={"userId": user, "scheduleId": SCHEDULE, "seatNo": seat},
        )
        codes.append(reservation.status_code)
        if reservation.status_code == 201:
            payment = client.post(
                "/payments",
                headers=headers,
                json={"reservationId": reservation.json()["reservationId"], "amount": SEAT_PRICE},
            )
            codes.append(payment.status_code)
    return codes


def drive_load(
    base_url: str, customers: int = 30, parallel: int = 6, failures: list[str] | None = None
) -> list[int]:
    """Every status code answered; bounded by `customers` (a few seconds on this machine).
    `failures` collects each answer of 500 or more, with its request and body."""
    run = uuid.uuid4().hex[:8]
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        results = pool.map(lambda n: one_customer(base_url, run, n, failures), range(customers))
        return [code for codes in results for code in codes]


def release_customers(settings: StackSettings) -> int:
    """Expire every queue token `one_customer` took: a customer whose reservation lost its seat
    keeps an ACTIVE token for its whole lifetime (600 s), and 50 of them fill the queue for the
    tests after (a load run then waits in the queue and times nothing)."""
    return expire_queue_tokens(settings, CUSTOMER_PREFIX)
