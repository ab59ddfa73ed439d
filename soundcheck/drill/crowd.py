"""Plan FP#2's crowd: "100 users at once" charging points while long transactions hold the rows
their requests need (`db_locks`: each user's points row, inserted by the holding session and
never committed). Each user takes a queue token (WAITING is enough to charge), then charges,
retrying at once while refused, as people pressing reload do, and stops once charged. Every
charge holds a gunicorn thread and a pooled connection until the service gives up on the lock
(`BOOKING_LOCK_WAIT_TIMEOUT_SECONDS`) and answers 503.

The crowd used to ask for queue tokens with the queue's state row locked; a token request no
longer waits for that lock (queue_statements.issue), so it no longer fills the pool.

A user's requests stay on the connection its first one opened, served by the gunicorn worker
that accepted it. Connections opened all at once are not shared out evenly: the worker awake
first accepts most of them (82, 11 and 7 of 100 users in a CI run of 2026-12-02, 225, 61 and
14 of 300 here), which left two pools below their 16 connections, the sum below the alert's
90 %, and the drill holding its fault 100 s without a page. So the users arrive 5 ms apart
(110, 101 and 89 of 300 here; 140, 94 and 66 in CI). A crowd of 300 once got one request
without an answer in CI, so it is the plan's 100 again. A request queued in a worker whose
threads are all taken waits its turn, so the client waits longer than any hold.

The repair sends the crowd home (idempotent; a drill process that died took its threads along)
and expires the tokens its users got once the locks were gone."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from soundcheck.drill.actions import DrillContext, Finding
from soundcheck.drill.db_locks import hold_points_rows
from soundcheck.drill.verdicts import check
from soundcheck.stack.parts.booking import expire_queue_tokens

USER_PREFIX = "drill-pool-crowd-"
REFUSED_PAUSE_SECONDS = 0.2  # after a refused connection, not to spin
HOME_WITHIN_SECONDS = 30.0
# Longer than a full drill's hold (60 s) plus a turn in a worker's queue of users.
ANSWER_WITHIN_SECONDS = 180.0
ARRIVAL_GAP_SECONDS = 0.005  # 0.5 s for 100 users: see above why not all at once
CHARGE = 1000  # points per charge


@dataclass
class Crowd:
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    sentences: Counter[str] = field(default_factory=Counter)  # the 503s' error codes
    unanswered: Counter[str] = field(default_factory=Counter)  # no answer: the client's error
    lock: threading.Lock = field(default_factory=threading.Lock)
    http: httpx.Client | None = None

    def note(self, answer: httpx.Response | None, error: str = "") -> None:
        with self.lock:
            if answer is None:
                self.statuses["no answer"] += 1
                self.unanswered[error] += 1
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


def ask(crowd: Crowd, call: Any) -> httpx.Response | None:
    """One request, noted; None when refused without an answer (after a short pause)."""
    try:
        answer: httpx.Response = call()
    except httpx.HTTPError as error:
        crowd.note(None, type(error).__name__)
        crowd.stop.wait(REFUSED_PAUSE_SECONDS)
        return None
    crowd.note(answer)
    return answer


def one_user(crowd: Crowd, http: httpx.Client, user_id: str) -> None:
    """Take a queue token, then charge points until charged (200) or the crowd goes home."""
    token = None
    while token is None and not crowd.stop.is_set():
        answer = ask(crowd, lambda: http.post("/queue/token", json={"userId": user_id}))
        if answer is not None and answer.status_code == 201:
            token = answer.json()["tokenValue"]
        elif answer is not None and answer.status_code < 500:
            return  # not refused, told no (a 409 or 400): nothing to retry
    headers = {"X-Queue-Token": str(token)}
    charge = {"amount": CHARGE}
    while not crowd.stop.is_set():
        answer = ask(
            crowd,
            lambda: http.post(f"/users/{user_id}/points/charge", headers=headers, json=charge),
        )
        if answer is not None and answer.status_code < 500:
            return


def crowd_the_locked_rows(context: DrillContext, users: int = 100) -> str:
    """`users` users at once charge points whose rows a session holds locked, each retrying
    while refused."""
    settings = context.stack.settings
    stamp = int(time.time())
    user_ids = [f"{USER_PREFIX}{stamp}-{n}" for n in range(users)]
    locked = hold_points_rows(user_ids)
    # One client (thread-safe) with a connection per user: a client each cost 100 TLS contexts,
    # 14 s of CPU on a loaded machine before the last user asked anything.
    http = httpx.Client(
        base_url=f"http://{settings.host}:{settings.booking_port}",
        timeout=ANSWER_WITHIN_SECONDS,
        limits=httpx.Limits(max_connections=users, max_keepalive_connections=users),
    )
    crowd = Crowd(http=http)
    GATHERED.append(crowd)
    for n, user_id in enumerate(user_ids):
        thread = threading.Thread(
            target=one_user, args=(crowd, http, user_id), name=f"crowd-{n}", daemon=True
        )
        thread.start()
        crowd.threads.append(thread)
        time.sleep(ARRIVAL_GAP_SECONDS)
    return (
        f"{users} users charge points at once, retrying while refused; their {locked} points "
        "rows are locked"
    )


def send_the_crowd_home(context: DrillContext) -> Finding:
    """Stop the crowd, wait for its last answers, expire its tokens; judge what it was told:
    each refusal a 503 with a sentence (plan FP#2: fail fast and say so, never hang)."""
    statuses: Counter[str] = Counter()
    sentences: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
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
        unanswered += crowd.unanswered
    expired = expire_queue_tokens(context.stack.settings, USER_PREFIX)
    refused = statuses.get("503", 0)
    measured = {
        "answers": dict(statuses),
        "refusals_by_error": dict(sentences),
        "tokens_expired": expired,
    }
    if unanswered:
        measured["unanswered_by_error"] = dict(unanswered)
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
