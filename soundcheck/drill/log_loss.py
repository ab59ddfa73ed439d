"""Logs lost? While Elasticsearch is down (and the pipeline crashes), the drill sends the booking
service requests whose paths carry a marker, so each answered request is one log line the
service logged (`http.request.completed`, its `url.path`). After the repair the probe counts the
marked lines in Elasticsearch: every one must be there, once."""

from __future__ import annotations

import time

import httpx

from soundcheck.drill.actions import DrillContext, Finding
from soundcheck.drill.verdicts import check

MARK = "drill-logs-"
SENT: dict[str, int] = {}  # marker prefix → requests the service answered (this process's run)
POLL_SECONDS = 2.0


def send_marked_requests(context: DrillContext, count: int = 20) -> str:
    """`count` GET /concerts/<marker>/schedules (answered 404, each logged by the service)."""
    settings = context.stack.settings
    prefix = f"/concerts/{MARK}{int(time.time() * 1000)}-"
    answered = 0
    with httpx.Client(base_url=f"http://{settings.host}:{settings.booking_port}", timeout=10) as h:
        for n in range(count):
            try:
                h.get(f"{prefix}{n}/schedules")
                answered += 1
            except httpx.HTTPError:
                continue  # not answered, so not acknowledged: not counted
    SENT[prefix] = SENT.get(prefix, 0) + answered
    return f"{answered} of {count} marked requests answered ({prefix}N/schedules)"


def marked_in_elasticsearch(http: httpx.Client, prefix: str) -> int:
    answer = http.post(
        "/logs-*/_count",
        json={"query": {"prefix": {"url.path": prefix}}},
    )
    answer.raise_for_status()
    return int(answer.json()["count"])


def logs_found_in_elasticsearch(context: DrillContext, wait_seconds: float = 120.0) -> Finding:
    """After the repair: wait until every marked line is searchable (or `wait_seconds`)."""
    settings = context.stack.settings
    expected = dict(SENT)
    found: dict[str, int] = {}
    began = time.time()
    with httpx.Client(
        base_url=f"http://{settings.host}:{settings.elasticsearch_port}", timeout=10
    ) as http:
        while True:
            try:
                http.post("/logs-*/_refresh")
                found = {p: marked_in_elasticsearch(http, p) for p in expected}
            except httpx.HTTPError:
                found = {}
            if found == expected or time.time() - began >= wait_seconds:
                break
            time.sleep(POLL_SECONDS)
    sent, stored = sum(expected.values()), sum(found.values())
    measured = {"answered": sent, "found": stored, "waited_seconds": round(time.time() - began, 1)}
    verdict = check(
        "every acknowledged log line in Elasticsearch",
        "EOT",
        10,
        None if not expected else found == expected,
        measured,
        "each line the service logged during the fault found once",
    )
    SENT.clear()
    return Finding(f"log lines: {measured}", verdict)
