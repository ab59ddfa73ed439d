"""Plan FP#4, queue activation stalled: the booking service's background worker (activation timer,
expiry) stopped while users wait. The probe fills the queue past its maximum with the drill's own
users, so some wait, then watches MariaDB: no activation while the worker is stopped is the fault
made real. The repair expires the drill's tokens (idempotent), so no user is left waiting."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx

from booking_app.settings import BookingSettings
from soundcheck.drill.actions import DrillContext, Finding
from soundcheck.drill.definition import DrillError
from soundcheck.drill.verdicts import check
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import expire_queue_tokens
from soundcheck.stack.parts.mariadb import app_connection

USER_PREFIX = "drill-queue-stall-"
EXTRA_WAITING = 5  # tokens asked beyond the maximum: these must wait


def queue_state(settings: StackSettings) -> tuple[int, datetime | None]:
    """WAITING tokens and the last activation's time, as MariaDB has them."""
    with (
        app_connection(settings, settings.mariadb_database) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute("SELECT COUNT(*) FROM queue_tokens WHERE status = 'WAITING'")
        row: Any = cursor.fetchone()
        cursor.execute("SELECT last_activation_at FROM queue_state WHERE id = 1")
        state: Any = cursor.fetchone()
    return int(row[0]), None if state is None else state[0]


def fill_queue(settings: StackSettings) -> int:
    """Ask for max_active_tokens + EXTRA_WAITING tokens; returns how many were issued."""
    count = int(BookingSettings.model_fields["max_active_tokens"].default) + EXTRA_WAITING
    stamp = int(time.time())
    base = f"http://{settings.host}:{settings.booking_port}"
    with httpx.Client(base_url=base, timeout=10) as http:
        for n in range(count):
            answer = http.post("/queue/token", json={"userId": f"{USER_PREFIX}{stamp}-{n}"})
            if answer.status_code != 201:
                raise DrillError(f"POST /queue/token answered {answer.status_code}: {answer.text}")
    return count


def queue_stalled(context: DrillContext, watch_seconds: float = 15.0) -> Finding:
    """With the worker stopped: fill the queue, then watch `watch_seconds` for an activation."""
    settings = context.stack.settings
    issued = fill_queue(settings)
    waiting_before, activated_before = queue_state(settings)
    time.sleep(watch_seconds)
    waiting_after, activated_after = queue_state(settings)
    stalled = waiting_before > 0 and waiting_after >= waiting_before
    stalled = stalled and activated_after == activated_before
    measured = {
        "tokens_asked": issued,
        "waiting": [waiting_before, waiting_after],
        "activated_during_watch": activated_after != activated_before,
        "watch_seconds": watch_seconds,
    }
    verdict = check(
        "queue activation stalled (the fault is real)",
        "OnChaos",
        2,
        stalled,
        measured,
        "users waiting and no activation while the worker is stopped",
    )
    return Finding(f"queue: {measured}", verdict)


def release_drill_tokens(context: DrillContext) -> str:
    """Expire the drill's own tokens, WAITING and ACTIVE (idempotent); the worker, resumed,
    activates real users in their place at its next tick."""
    released = expire_queue_tokens(context.stack.settings, USER_PREFIX)
    return f"{released} drill token(s) expired"
