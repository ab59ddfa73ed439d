"""`soundcheck demo`: the job Soundcheck exists for, on the real stack, in two or three minutes.

1. A ticket opening: many users join the booking service's waiting queue at once, wait for their
   turn, race for the seats of one schedule (several users per seat) and the winners pay.
2. A failure drill: Redis is stopped. A second wave of users still books (degraded mode);
   RedisDown fires in Prometheus; Alertmanager sends it to the router, which pages PagerDuty (the
   sandbox stands in for it) with the runbook link. Redis is started again, whatever happened.
3. The checks: no seat reserved twice (asked of MariaDB itself) and the time from the fault to
   the page (the goal: within 30 s of the alert firing).

The opening is `demo_opening.py`, the drill `demo_drill.py`; this module runs both and checks.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress

from soundcheck.demo_drill import page_links, redis_drill
from soundcheck.demo_opening import Opening, describe_wave, free_schedule, run_wave
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack


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
