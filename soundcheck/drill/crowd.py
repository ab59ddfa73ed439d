"""Plan FP#2's crowd: "100 users at once" asking the booking service for queue tokens while long
transactions hold the rows their requests need (`db_locks`). Each user retries at once while
refused, as people pressing reload do, and stops once let in: at most one token per user. With
the queue's state row locked, every request holds a gunicorn thread and a pooled connection
until the service gives up on the lock (`BOOKING_LOCK_WAIT_TIMEOUT_SECONDS`) and answers 503.

The repair sends the crowd home (idempotent; a drill process that died took its threads along)
and expires the tokens its users got once the locks were gone."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from booking_app.settings import BookingSettings
from soundcheck.drill.actions import DrillContext, Finding
from soundcheck.drill.definition import DrillError
from soundcheck.drill.verdicts import check
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import expire_queue_tokens
from soundcheck.stack.parts.mariadb import app_connection

USER_PREFIX = "drill-pool-crowd-"
REFUSED_PAUSE_SECONDS = 0.2  # after a refused connection, not to spin
HOME_WITHIN_SECONDS = 30.0


@dataclass
class Crowd:
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    sentences: Counter[str] = field(default_factory=Counter)  # the 503s' error codes
    lock: threading.Lock = field(default_factory=threading.Lock)
    http: httpx.Client | None = None

    def note(self, answer: httpx.Response | None) -> None:
        with self.lock:
            if answer is None:
                self.statuses["no answer"] += 1
                return
            self.statuses[str(answer.status_code)] += 1
            if answer.status_code == 503:
                self.sentences[refusal(answer)] += 1


GATHERED: list[Crowd] = []  # this run's crowd


def refusal(answer: httpx.Response) -> str:
    """A 503's error code when its body says, in a sentence, what happened."""
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body.get("message"):
        return "503 without a sentence"
    return str(body.get("error"))


def active_tokens(settings: StackSettings) -> int:
    with app_connection(settings, settings.mariadb_database) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM queue_tokens WHERE status = 'ACTIVE'")
        row: Any = cursor.fetchone()
    return int(row[0])


def one_user(crowd: Crowd, http: httpx.Client, user_id: str) -> None:
    """Ask for a token until let in (201), told it holds one (409) or the crowd goes home."""
    while not crowd.stop.is_set():
        try:
            answer = http.post("/queue/token", json={"userId": user_id})
        except httpx.HTTPError:
            crowd.note(None)
            crowd.stop.wait(REFUSED_PAUSE_SECONDS)
            continue
        crowd.note(answer)
        if answer.status_code in (201, 409):
            return


def crowd_the_locked_rows(context: DrillContext, users: int = 100) -> str:
    """`users` users at once ask for a queue token, each retrying while refused."""
    settings = context.stack.settings
    room = int(BookingSettings.model_fields["max_active_tokens"].default)
    if active_tokens(settings) >= room:
        raise DrillError(
            f"The queue already holds {room} ACTIVE tokens, so token requests would not wait on "
            "its lock: wait for them to expire (or expire a load run's with `soundcheck load`)."
        )
    # One client (thread-safe) with a connection per user: a client each cost 100 TLS contexts,
    # 14 s of CPU on a loaded machine before the last user asked anything.
    http = httpx.Client(
        base_url=f"http://{settings.host}:{settings.booking_port}",
        timeout=60,
        limits=httpx.Limits(max_connections=users, max_keepalive_connections=users),
    )
    crowd = Crowd(http=http)
    GATHERED.append(crowd)
    stamp = int(time.time())
    for n in range(users):
        thread = threading.Thread(
            target=one_user,
            args=(crowd, http, f"{USER_PREFIX}{stamp}-{n}"),
            name=f"crowd-{n}",
            daemon=True,
        )
        thread.start()
        crowd.threads.append(thread)
    return f"{users} users ask for a queue token at once, retrying while refused"


def send_the_crowd_home(context: DrillContext) -> Finding:
    """Stop the crowd, wait for its last answers, expire its tokens; judge what it was told:
    each refusal a 503 with a sentence (plan FP#2: fail fast and say so, never hang)."""
    statuses: Counter[str] = Counter()
    sentences: Counter[str] = Counter()
    while GATHERED:
        crowd = GATHERED.pop()
        crowd.stop.set()
        deadline = time.monotonic() + HOME_WITHIN_SECONDS
        for thread in crowd.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if crowd.http is not None:
            crowd.http.close()
        statuses += crowd.statuses
        sentences += crowd.sentences
    expired = expire_queue_tokens(context.stack.settings, USER_PREFIX)
    refused = statuses.get("503", 0)
    measured = {
        "answers": dict(statuses),
        "refusals_by_error": dict(sentences),
        "tokens_expired": expired,
    }
    verdict = check(
        "requests behind the locks refused with 503 and a sentence",
        "OnChaos",
        5,
        None if not statuses else refused > 0 and "503 without a sentence" not in sentences,
        measured,
        "503s naming the cause, no answer missing",
    )
    if statuses.get("no answer"):
        verdict["verdict"] = "Fail"
    return Finding(f"crowd: {measured}", verdict)
