"""`soundcheck demo`: the job Soundcheck exists for, on the real stack, in two or three minutes.

1. A ticket opening: many users join the booking service's waiting queue at once, wait for their
   turn, race for the seats of one schedule (several users per seat) and the winners pay.
2. A failure drill: Redis is stopped. A second wave of users still books (degraded mode);
   RedisDown fires in Prometheus; Alertmanager sends it to the router, which pages PagerDuty (the
   sandbox stands in for it) with the runbook link. Redis is started again, whatever happened.
3. The checks: no seat reserved twice (asked of MariaDB itself) and the time from the fault to
   the page (the goal: within 30 s of the alert firing).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress

from sandbox.client import SandboxClient, only_mentioning
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack

PAGE_TEXT = "FIRING RedisDown"
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


def seats_sold_twice(settings: StackSettings, schedule: str) -> list[tuple[int, int]]:
    """Seats of `schedule` with more than one live reservation, straight from MariaDB."""
    connection = app_connection(settings, settings.mariadb_database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.seat_no, COUNT(*) FROM reservations r JOIN seats s ON s.id = r.seat_id "
                "WHERE s.schedule_id = %s AND r.status <> 'CANCELLED' GROUP BY s.seat_no "
                "HAVING COUNT(*) > 1",
                (schedule,),
            )
            return [(int(seat), int(count)) for seat, count in cursor.fetchall()]
    finally:
        connection.close()


def wait_for(what: Callable[[], Any], within: float, every: float = 0.5) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(every)
    return None


@dataclass
class DrillResult:
    wave: Wave
    firing_after: float | None
    paged_after: float | None
    page: dict[str, Any] | None


def redis_drill(
    stack: Stack,
    opening: Opening,
    users: int,
    progress: Progress,
    console: Console,
) -> DrillResult:
    settings = stack.settings
    prometheus = httpx.Client(
        base_url=f"http://{settings.host}:{settings.prometheus_port}", timeout=10
    )
    sandbox = SandboxClient(f"http://{settings.host}:{settings.sandbox_port}")

    def alerts(query: str) -> bool:
        answer = prometheus.get("/api/v1/query", params={"query": query})
        return bool(answer.json()["data"]["result"])

    def firing() -> bool:
        return alerts('ALERTS{alertname="RedisDown", alertstate="firing"}')

    def clear() -> bool:
        """No RedisDown left from an earlier fault: one still firing (or active in
        Alertmanager) would simply go on, and until its resolve has been sent Alertmanager folds
        a new fault into the incident still open (it dedups by the set of firing alerts), so
        nobody would be paged again."""
        if alerts('ALERTS{alertname="RedisDown"}'):
            return False
        active = httpx.get(
            f"http://{settings.host}:{settings.alertmanager_port}/api/v2/alerts",
            params={"filter": 'alertname="RedisDown"'},
            timeout=10,
        )
        if active.json():
            return False
        received = sandbox.received("pagerduty")  # newest first
        pages = only_pages(received)
        if not pages:
            return True
        trigger = pages[0]
        key = trigger["body"].get("dedup_key")
        return any(
            p["kind"] == "resolve" and p["body"].get("dedup_key") == key and p["at"] > trigger["at"]
            for p in received
        )

    def only_pages(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [p for p in only_mentioning(received, PAGE_TEXT) if p["kind"] == "trigger"]

    def new_page() -> dict[str, Any] | None:
        """The first trigger received since the fault (by time: the sandbox's sequence numbers
        start again when it restarts)."""
        fresh = [p for p in only_pages(sandbox.received("pagerduty")) if p["at"] >= fault_at]
        return fresh[-1] if fresh else None

    names = [f"degraded{n}" for n in range(users)]
    with ThreadPoolExecutor(16) as pool:
        tokens = list(pool.map(lambda name: opening.token(name, QUEUE_WAIT_SECONDS), names))
    if not clear():
        console.print(
            "\n  waiting for the last RedisDown (an earlier fault) to be resolved at PagerDuty"
        )
        if not wait_for(clear, 300, every=2):
            raise DemoError("RedisDown from an earlier fault did not resolve within 5 minutes")
    console.print(
        f"\n[bold]Failure drill[/bold]: {users} more users are through the queue; stopping Redis "
        "(`soundcheck stop redis`) before they book."
    )
    began, fault_at = time.monotonic(), time.time()
    stack.stop(["redis"])
    try:
        wave = run_wave(opening, users, "degraded wave", progress, tokens)
        firing_after = paged_after = None
        if wait_for(firing, 90):
            firing_after = time.monotonic() - began
            console.print(f"  RedisDown firing in Prometheus {firing_after:.1f} s after the fault")
        page = wait_for(new_page, 120)
        if page:
            paged_after = time.monotonic() - began
    finally:
        console.print("  starting Redis again")
        stack.up(["redis"])
        prometheus.close()
    return DrillResult(wave, firing_after, paged_after, page)


def page_links(page: dict[str, Any]) -> list[str]:
    body = page.get("body") or {}
    return [f"{link.get('text', '')}: {link.get('href', '')}" for link in body.get("links", [])]


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


def run_demo(
    stack: Stack, console: Console, users: int = 120, drill_users: int = 20
) -> dict[str, Any]:
    """The whole demo against a running stack; returns what the checks found."""
    settings = stack.settings
    run = f"demo{int(time.time())}"
    booking = httpx.Client(
        base_url=f"http://{settings.host}:{settings.booking_port}",
        timeout=30,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
    )
    try:
        schedule, seats = free_schedule(booking, users + drill_users)
        console.print(
            f"\n[bold]Ticket opening[/bold]: {users} users for {schedule} "
            f"({len(seats)} seats free); the first {users // 4} seats are wanted by 4 users each."
        )
        opening = Opening(booking, schedule, seats[:users], users // 4, run)
        with Progress(console=console, transient=True) as progress:
            wave = run_wave(opening, users, "opening wave", progress)
        describe_wave(console, "opening", wave)
        drill_seats = seats[users : users + drill_users]
        drill_opening = Opening(booking, schedule, drill_seats, drill_users // 2, run)
        with Progress(console=console, transient=True) as progress:
            drill = redis_drill(stack, drill_opening, drill_users, progress, console)
        describe_wave(console, "during the outage", drill.wave)
    finally:
        booking.close()
    twice = seats_sold_twice(settings, schedule)
    console.print("\n[bold]Checks[/bold]")
    console.print(
        "  seats reserved twice (MariaDB): " + ("none" if not twice else f"[red]{twice}[/red]")
    )
    if drill.page is None:
        console.print("  [red]no page for RedisDown reached PagerDuty (the sandbox)[/red]")
    else:
        console.print(
            f"  paged (PagerDuty, sandbox) {drill.paged_after:.1f} s after Redis stopped: "
            f"{drill.page['body']['payload']['summary']}"
        )
        for link in page_links(drill.page):
            console.print(f"    {link}", highlight=False)
    return {
        "schedule": schedule,
        "booked": len(wave.booked) + len(drill.wave.booked),
        "failed": wave.failed + drill.wave.failed,
        "sold_twice": twice,
        "firing_after": drill.firing_after,
        "paged_after": drill.paged_after,
        "page": drill.page,
    }
