"""The demo's ticket opening: users of one schedule join the waiting queue, race for the same seats
(a spare one after a 409) and pay; a wave is many of them at once.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress

QUEUE_WAIT_SECONDS = 180.0  # 50 ACTIVE at a time; a slot frees when its user has paid


class DemoError(Exception):
    """The demo could not do what it shows; the message says what and what to do."""


@dataclass
class Wave:
    """What one wave of users got."""

    users: int
    booked: list[int] = field(default_factory=list)  # reservation ids
    refused: int = 0  # 409s: someone else had the seat
    failed: list[str] = field(default_factory=list)  # anything else, with the answer
    answer_seconds: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Opening:
    """Users of one schedule: queue, wait for ACTIVE, reserve (a spare seat after a 409), pay.

    The first `hot` seats are the ones everybody wants (several users each); whoever loses
    takes the next spare seat, so nobody is left holding an ACTIVE token without a seat (that
    would keep the queue's slots taken until the token's TTL)."""

    def __init__(
        self, client: httpx.Client, schedule: str, seats: list[int], hot: int, run: str
    ) -> None:
        self.client = client
        self.schedule = schedule
        self.hot = seats[:hot]
        self.run = run
        self._spare: Iterator[int] = iter(seats[hot:])
        self._spare_lock = threading.Lock()

    def token(self, name: str, wait_seconds: float) -> str:
        """Join the queue and wait for the turn; the token, ACTIVE."""
        user = f"{self.run}-{name}"
        answer = self.client.post("/queue/token", json={"userId": user})
        if answer.status_code != 201:
            raise DemoError(f"POST /queue/token answered {answer.status_code}: {answer.text}")
        body = answer.json()
        token, status = str(body["tokenValue"]), body["status"]
        deadline = time.monotonic() + wait_seconds
        while status != "ACTIVE":
            if time.monotonic() > deadline:
                raise DemoError(f"{user} waited {wait_seconds:.0f} s in the queue ({status})")
            time.sleep(0.5)  # a user polling their place in the queue, as the plan's client does
            answer = self.client.get("/queue/status", headers={"X-Queue-Token": token})
            status = answer.json()["status"]
        return token

    def book(self, wave: Wave, name: str, n: int, token: str) -> None:
        """Reserve the wanted seat (or spares, after 409s), then charge points and pay."""
        user = f"{self.run}-{name}"
        seat: int | None = self.hot[n % len(self.hot)]
        while seat is not None:
            began = time.monotonic()
            answer = self.client.post(
                "/reservations",
                headers={"X-Queue-Token": token},
                json={"userId": user, "scheduleId": self.schedule, "seatNo": seat},
            )
            with wave.lock:
                wave.answer_seconds.append(time.monotonic() - began)
            if answer.status_code == 201:
                reservation = answer.json()
                self._pay(token, user, reservation)
                with wave.lock:
                    wave.booked.append(int(reservation["reservationId"]))
                return
            if answer.status_code != 409:
                raise DemoError(f"POST /reservations answered {answer.status_code}: {answer.text}")
            with wave.lock:
                wave.refused += 1
            with self._spare_lock:
                seat = next(self._spare, None)
        raise DemoError(f"{user}: no seat left")

    def _pay(self, token: str, user: str, reservation: dict[str, Any]) -> None:
        price = int(reservation["price"])
        charged = self.client.post(
            f"/users/{user}/points/charge",
            headers={"X-Queue-Token": token},  # the user's own token says who charges (B12)
            json={"amount": price},
        )
        paid = self.client.post(
            "/payments",
            headers={"X-Queue-Token": token, "Idempotency-Key": f"{user}-pay"},
            json={"reservationId": reservation["reservationId"], "amount": price},
        )
        for answer in (charged, paid):
            if answer.status_code not in (200, 201):
                raise DemoError(f"{answer.request.url.path} answered {answer.status_code}")


def run_wave(
    opening: Opening,
    users: int,
    label: str,
    progress: Progress,
    tokens: list[str] | None = None,
) -> Wave:
    """`users` users at once, 32 at a time; with `tokens` they are already through the queue."""
    wave = Wave(users)
    task = progress.add_task(label, total=users)

    def one(n: int) -> None:
        name = f"{label.split()[0]}{n}"
        try:
            token = tokens[n] if tokens else opening.token(name, QUEUE_WAIT_SECONDS)
            opening.book(wave, name, n, token)
        except (DemoError, httpx.HTTPError) as error:
            with wave.lock:
                wave.failed.append(str(error))
        progress.advance(task)

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(one, range(users)))
    return wave


def free_schedule(client: httpx.Client, needed: int) -> tuple[str, list[int]]:
    """The schedule with the most AVAILABLE seats, and those seats."""
    best: tuple[str, list[int]] = ("", [])
    for concert in client.get("/concerts").json()["concerts"]:
        schedules = client.get(f"/concerts/{concert['concertId']}/schedules").json()["schedules"]
        for schedule in schedules:
            listing = client.get(f"/concerts/schedules/{schedule['scheduleId']}/seats").json()
            free = [s["seatNo"] for s in listing["seats"] if s["status"] == "AVAILABLE"]
            if len(free) > len(best[1]):
                best = (schedule["scheduleId"], free)
    if len(best[1]) < needed:
        raise DemoError(
            f"No schedule has {needed} free seats any more (earlier demos sold them). Start "
            "from an empty database: `soundcheck down`, remove .soundcheck/mariadb, then "
            "`soundcheck up`."
        )
    return best


def describe_wave(console: Console, name: str, wave: Wave) -> None:
    answers = sorted(wave.answer_seconds) or [0.0]
    p95 = answers[min(len(answers) - 1, int(0.95 * len(answers)))]
    console.print(
        f"  {name}: {wave.users} users, {len(wave.booked)} booked and paid, {wave.refused} "
        f"told the seat was taken (then tried another), {len(wave.failed)} failed; reservation "
        f"answer median {statistics.median(answers) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )
    for failure in wave.failed[:5]:
        console.print(f"    [red]{failure}[/red]")
