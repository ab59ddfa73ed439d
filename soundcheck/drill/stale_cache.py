"""Plan FP#5, stale cache: a schedule changed in MariaDB directly (an operator's UPDATE, a
migration), bypassing the admin API that evicts the cache. The probe measures how long the
booking API keeps serving the old value; the cache's TTL is the only bound (no alert exists for
stale data: a gap the plan names). Its repair strips the drill's mark again (idempotent)."""

from __future__ import annotations

import statistics
import time

import httpx

from booking_app.settings import BookingSettings
from soundcheck.drill.actions import DrillContext, Finding
from soundcheck.drill.definition import DrillError
from soundcheck.drill.verdicts import check
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection

MARK = " · moved by drill stale-cache"
POLL_SECONDS = 0.1
SLACK_SECONDS = 1.0  # the poll's step, Redis's expiry and one request: above the TTL is a miss


def cache_ttl_seconds() -> float:
    """The TTL the stack's booking service runs with (the stack does not override it)."""
    return float(BookingSettings.model_fields["cache_ttl_seconds"].default)


def schedules_to_move(settings: StackSettings, count: int) -> list[tuple[str, str, str]]:
    """(schedule id, concert id, venue) of `count` schedules the drill has not marked."""
    with (
        app_connection(settings, settings.mariadb_database) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT id, concert_id, venue FROM schedules WHERE venue NOT LIKE %s "
            "ORDER BY id LIMIT %s",
            (f"%{MARK}", count),
        )
        rows = [(str(a), str(b), str(c)) for a, b, c in cursor.fetchall()]
    if not rows:
        raise DrillError("No schedule in MariaDB to change; `soundcheck up` seeds the concerts.")
    return rows


def venue_served(http: httpx.Client, concert_id: str, schedule_id: str) -> str | None:
    answer = http.get(f"/concerts/{concert_id}/schedules")
    answer.raise_for_status()
    found = [s for s in answer.json()["schedules"] if s["scheduleId"] == schedule_id]
    return str(found[0]["venue"]) if found else None


def stale_seconds(
    context: DrillContext, http: httpx.Client, schedule: tuple[str, str, str], give_up: float
) -> float | None:
    """Cache the schedule, change its venue in MariaDB, and time until the API shows it."""
    settings = context.stack.settings
    schedule_id, concert_id, venue = schedule
    venue_served(http, concert_id, schedule_id)  # now cached (or refreshed) with the old venue
    moved = venue[: 200 - len(MARK)] + MARK  # the column holds 200 characters
    with (
        app_connection(settings, settings.mariadb_database) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("UPDATE schedules SET venue = %s WHERE id = %s", (moved, schedule_id))
    changed = time.time()
    while time.time() - changed < give_up:
        if venue_served(http, concert_id, schedule_id) == moved:
            return round(time.time() - changed, 2)
        time.sleep(POLL_SECONDS)
    return None


def change_schedules_directly(context: DrillContext, samples: int = 3) -> Finding:
    """For `samples` schedules: the time the API served stale data after a direct UPDATE."""
    settings = context.stack.settings
    ttl = cache_ttl_seconds()
    base = f"http://{settings.host}:{settings.booking_port}"
    with httpx.Client(base_url=base, timeout=10) as http:
        measured = [
            stale_seconds(context, http, schedule, give_up=4 * ttl + 10)
            for schedule in schedules_to_move(settings, samples)
        ]
    seen = [m for m in measured if m is not None]
    worst = max(seen) if len(seen) == len(measured) else None
    median = statistics.median(seen) if seen else None
    verdict = check(
        "stale data served ≤ cache TTL",
        "OnChaos",
        8,
        worst is not None and worst <= ttl + SLACK_SECONDS,
        {"samples": measured, "median": median, "worst": worst, "ttl": ttl},
        f"≤ {ttl:g} s (cache_ttl_seconds) + {SLACK_SECONDS:g} s; no alert exists for it",
    )
    output = (
        f"stale for {measured} s (median {median}, worst {worst}; TTL {ttl:g} s); "
        "no alert watches stale data (plan FP#5: a gap)"
    )
    return Finding(output, verdict)


def restore_schedules(context: DrillContext) -> str:
    """Strip the drill's mark from every venue (idempotent); the cache follows within its TTL."""
    settings = context.stack.settings
    with (
        app_connection(settings, settings.mariadb_database) as conn,
        conn.cursor() as cursor,
    ):
        restored = cursor.execute(
            "UPDATE schedules SET venue = LEFT(venue, CHAR_LENGTH(venue) - %s) WHERE venue LIKE %s",
            (len(MARK), f"%{MARK}"),
        )
    return f"{restored} schedule(s) restored"
