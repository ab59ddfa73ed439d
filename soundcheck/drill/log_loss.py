"""Logs lost? Every drill with background traffic also sends the booking service a request every
5 s whose path carries a marker (and a drill step may send a burst, `send_marked_requests`):
each answered request is one log line the service logged (`http.request.completed`, its
`url.path`). After the drill, every such line must be found in Elasticsearch, once.

The path has no route: a 404 the service answers without MariaDB or Redis, so a marker never
fails with the drill's fault and never counts as an SLO error. One every 5 s keeps them a small
share of the requests the SLO alerts' minimum-rate guard counts (one a second lifted a young
stack's 6-hour rate over it, and db-down's errors then held the slow burn page for 30 minutes).

A line answered just before the service is SIGKILLed may still sit in its shipper's memory,
never acknowledged by the pipeline (instrumentation/shipper.py): those are left out and counted
apart. A pipeline SIGKILL excludes nothing: what it acknowledged it must keep."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpx

from soundcheck.drill.verdicts import check
from soundcheck.settings import StackSettings

if TYPE_CHECKING:
    from soundcheck.drill.actions import DrillContext

MARK = "drill-logs-"
EVERY_SECONDS = 5.0
# The shipper sends a record as soon as it is logged and drops it on the pipeline's ack
# (milliseconds); 2 s before a SIGKILL is a wide margin on a loaded machine.
UNACKNOWLEDGED_SECONDS = 2.0
WAIT_SECONDS = 120.0  # the pipeline replaying its disk buffer into a restarted Elasticsearch
POLL_SECONDS = 2.0
CHECK_NAME = "every acknowledged log line in Elasticsearch"


class LogMarkers:
    """Marked requests of one drill run and when each was answered."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.prefix = f"/{MARK}{int(time.time() * 1000)}-"
        self.answered: dict[str, float] = {}  # path → when its answer came
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def client(self) -> httpx.Client:
        base = f"http://{self.settings.host}:{self.settings.booking_port}"
        return httpx.Client(base_url=base, timeout=5)

    def send_one(self, http: httpx.Client) -> bool:
        """GET /drill-logs-<run>-<n> (no route: 404, logged); False if nothing answered."""
        with self._lock:
            path = f"{self.prefix}{self._next}"
            self._next += 1
        try:
            http.get(path)
        except httpx.HTTPError:
            return False  # not answered, so not logged for sure: not counted
        with self._lock:
            self.answered[path] = time.time()
        return True

    def send(self, count: int) -> int:
        with self.client() as http:
            return sum(self.send_one(http) for _ in range(count))

    def start(self) -> None:
        def loop() -> None:
            with self.client() as http:
                while not self._stop.wait(EVERY_SECONDS):
                    self.send_one(http)

        self._thread = threading.Thread(target=loop, name="log-markers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def send_marked_requests(context: DrillContext, count: int = 20) -> str:
    """A drill step: `count` marked requests at once (e.g. while Elasticsearch is down)."""
    answered = context.markers.send(count)
    return f"{answered} of {count} marked requests answered ({context.markers.prefix}N)"


def service_kills(run: Iterable[dict[str, Any]]) -> list[float]:
    """When the drill's steps SIGKILLed booking service processes (their `start`)."""
    return [
        step["start"]
        for step in run
        if step["func"] == "kill_gunicorn_worker"
        or (step["func"] == "kill_part" and step["arguments"].get("part") == "booking")
    ]


def lines_to_find(answered: dict[str, float], kills: list[float]) -> set[str]:
    """The answered lines, less those answered under UNACKNOWLEDGED_SECONDS before a kill."""
    return {
        path
        for path, at in answered.items()
        if not any(0 <= kill - at < UNACKNOWLEDGED_SECONDS for kill in kills)
    }


def found_in_elasticsearch(http: httpx.Client, prefix: str) -> Counter[str]:
    """How many times each marked path is stored in Elasticsearch."""
    http.post("/logs-*/_refresh")
    answer = http.post(
        "/logs-*/_search",
        json={
            "query": {"prefix": {"url.path": prefix}},
            "_source": False,
            "fields": ["url.path"],
            "size": 10_000,
        },
    )
    answer.raise_for_status()
    return Counter(
        str(value)
        for hit in answer.json()["hits"]["hits"]
        for value in hit.get("fields", {}).get("url.path", [])
    )


def lines_check(
    markers: LogMarkers, expected: set[str], found: Counter[str], waited: float
) -> dict[str, Any]:
    missing = sorted(expected - set(found))
    doubled = sorted(p for p in expected if found[p] > 1)
    measured = {
        "answered": len(markers.answered),
        "to_find": len(expected),
        "found": sum(1 for p in expected if found[p]),
        "missing": missing[:5],
        "found_more_than_once": doubled[:5],
        "answered_just_before_a_kill": len(markers.answered) - len(expected),
        "waited_seconds": round(waited, 1),
    }
    return check(
        CHECK_NAME,
        "EOT",
        10,
        None if not expected else not missing and not doubled,
        measured,
        "each line the service logged during the drill found once",
    )


def acknowledged_lines_check(
    markers: LogMarkers, run: Iterable[dict[str, Any]], wait_seconds: float = WAIT_SECONDS
) -> dict[str, Any]:
    """Wait (up to `wait_seconds`) until every acknowledged marked line is searchable."""
    expected = lines_to_find(markers.answered, service_kills(run))
    settings = markers.settings
    found: Counter[str] = Counter()
    began = time.time()
    with httpx.Client(
        base_url=f"http://{settings.host}:{settings.elasticsearch_port}", timeout=10
    ) as http:
        while True:
            try:
                found = found_in_elasticsearch(http, markers.prefix)
            except (httpx.HTTPError, ValueError, KeyError):
                found = Counter()
            if expected <= set(found) or time.time() - began >= wait_seconds:
                break
            time.sleep(POLL_SECONDS)
    return lines_check(markers, expected, found, time.time() - began)
