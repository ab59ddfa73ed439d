"""Every Kibana saved search finds the real events of each service that should match it (O5): a
booking service and a router, both shipping through the stack's pipeline into its
Elasticsearch, logging by one convention (event name in `event.action`, message a sentence)."""

from __future__ import annotations

import re
import secrets
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import redis

from pipeline.searches import SAVED_SEARCHES, SavedSearch
from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.booking_instances import BookingInstance, start_instance, stop_instance
from tests.support.harness import RouterProcess, router_environment, spare_port
from tests.support.polling import eventually

REDIS_DB = 12  # a database number no other suite uses
SLOW_BODY_SECONDS = 1.5  # the slow-requests search wants requests over one second
# Our own code's loggers (libraries, e.g. slack_sdk, log as they please).
OWN_LOGGERS = ("router", "booking_app", "soundcheck", "instrumentation")
EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
# Which services each saved search must find (the one-trace search: by each service's trace).
EXPECTED_SERVICES = {
    "soundcheck-errors-by-service": {"booking", "router"},
    "soundcheck-lock-acquisition-failures": {"booking"},
    "soundcheck-slow-requests": {"booking", "router"},
    "soundcheck-logs-of-one-trace": {"booking", "router"},
}


def closed_port(host: str) -> int:
    """A port nothing listens on (bound, then released): a dependency that is down."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def traceparent(trace_id: str) -> dict[str, str]:
    return {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}


def slow_body(body: bytes) -> Iterator[bytes]:
    """A client that sends its body slowly: the request lasts over a second at the service."""
    yield body[:10]
    time.sleep(SLOW_BODY_SECONDS)
    yield body[10:]


def p2_webhook() -> bytes:
    """An Alertmanager v4 webhook with one P2 alert (routed to Slack alone)."""
    return httpx.Request(
        "POST",
        "http://router/alerts",
        json={
            "version": "4",
            "groupKey": '{}:{alertname="SavedSearchCheck"}',
            "status": "firing",
            "receiver": "router",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "SavedSearchCheck", "priority": "P2"},
                    "annotations": {"summary": "a check of the saved searches"},
                    "startsAt": "2026-11-24T08:00:00Z",
                    "fingerprint": uuid.uuid4().hex[:16],
                }
            ],
        },
    ).read()


def hits(
    es: str, search: SavedSearch, environment: str, trace_id: str | None = None
) -> list[dict[str, Any]]:
    """The saved search's own query, narrowed to this test's services by their environment."""
    query = {
        "bool": {
            "filter": [
                search.query(trace_id=trace_id),
                {"term": {"service.environment": environment}},
            ]
        }
    }
    response = httpx.post(
        f"{es}/{search.index}/_search",
        params={"ignore_unavailable": "true", "allow_no_indices": "true"},
        json={"query": query, "size": 200},
        timeout=30,
    )
    if response.status_code == 503:  # a just-created index whose shard is not started yet
        return []
    response.raise_for_status()
    return [hit["_source"] for hit in response.json()["hits"]["hits"]]


def start_booking(settings: StackSettings, environment: str) -> BookingInstance:
    """A booking service of its own (its database is broken on purpose)."""
    return start_instance(
        settings,
        "searches",
        REDIS_DB,
        BOOKING_RUN_WORKER="0",
        BOOKING_MAX_ACTIVE_TOKENS="100",
        OTEL_RESOURCE_ATTRIBUTES=f"deployment.environment={environment}",
    )


def start_router(settings: StackSettings, environment: str, home: Path) -> RouterProcess:
    """A router whose Slack is unreachable and that dead-letters at the first failure."""
    port = spare_port(settings, settings.router_port + 40)
    env = router_environment(settings, port, home, secrets.token_hex(16))
    env.update(
        {
            "SOUNDCHECK_ROUTER_SLACK_URL": f"http://{settings.host}:{closed_port(settings.host)}/",
            "SOUNDCHECK_ROUTER_DEAD_LETTER_AFTER_SECONDS": "1",
            "OTEL_RESOURCE_ATTRIBUTES": f"deployment.environment={environment}",
        }
    )
    router = RouterProcess(home, env)
    router.start(within=60)
    return router


def booking_events(booking: BookingInstance, trace_id: str) -> None:
    """A reservation that waits for a seat lock held elsewhere (a lock failure, and a request of
    over a second), then a read of a table that is gone (an ERROR)."""
    (seat_id,) = booking.sql(
        "SELECT id FROM seats WHERE schedule_id = %s AND seat_no = %s", "schedule_1", 1
    )[0]
    lock = redis.Redis(host=booking.settings.host, port=booking.settings.redis_port, db=REDIS_DB)
    with booking.client() as client:
        token = booking.active_token(client, "searches_user")
        assert lock.set(f"seat:{seat_id}", "held-by-the-test", nx=True, px=60_000)
        try:
            refused = client.post(
                "/reservations",
                headers={"X-Queue-Token": token, **traceparent(trace_id)},
                json={"userId": "searches_user", "scheduleId": "schedule_1", "seatNo": 1},
            )
        finally:
            lock.delete(f"seat:{seat_id}")
        assert 400 <= refused.status_code < 500, refused.text
        booking.sql("RENAME TABLE concerts TO concerts_gone")  # a failure the service logs
        broken = client.get("/concerts")
        assert broken.status_code >= 500, broken.text


def router_events(router: RouterProcess, trace_id: str) -> None:
    """A webhook sent slowly (over a second), whose Slack delivery is dead-lettered (an ERROR)."""
    token = router.env["SOUNDCHECK_ROUTER_TOKEN"]
    answer = httpx.post(
        f"{router.url}/alerts",
        content=slow_body(p2_webhook()),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            **traceparent(trace_id),
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["deliveries_planned"] == 1


def follows_the_convention(document: dict[str, Any]) -> bool:
    """Event name in `event.action`, and a message that is a sentence, not an event name."""
    action, message = document.get("event.action"), str(document.get("message", ""))
    return bool(action and EVENT_NAME.fullmatch(str(action)) and not EVENT_NAME.fullmatch(message))


def conforming(documents: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
    return [
        document
        for document in documents
        if document.get("service.name") == service and follows_the_convention(document)
    ]


def expect_events(
    es: str, search: SavedSearch, environment: str, service: str, trace_id: str | None
) -> None:
    """`search` finds an event of `service` logged by the convention, and every line of our own
    code it finds follows the convention."""
    eventually(
        lambda: conforming(hits(es, search, environment, trace_id), service),
        120,
        f"{search.title!r} finds {service}'s events",
    )
    for document in hits(es, search, environment, trace_id):
        if str(document.get("log.logger", "")).startswith(OWN_LOGGERS):
            assert follows_the_convention(document), (search.title, document)


def test_every_saved_search_finds_the_events_each_service_ships(
    settings: StackSettings, stack: Stack, tmp_path: Path
) -> None:
    assert set(EXPECTED_SERVICES) == {search.id for search in SAVED_SEARCHES}
    es = f"http://{settings.host}:{settings.elasticsearch_port}"
    environment = f"searches-{uuid.uuid4().hex[:10]}"
    traces = {"booking": secrets.token_hex(16), "router": secrets.token_hex(16)}
    booking = start_booking(settings, environment)
    try:
        router = start_router(settings, environment, tmp_path / "router")
        try:
            booking_events(booking, traces["booking"])
            router_events(router, traces["router"])
            for search in SAVED_SEARCHES:
                for service in sorted(EXPECTED_SERVICES[search.id]):
                    trace_id = traces[service] if search.needs_trace_id else None
                    expect_events(es, search, environment, service, trace_id)
        finally:
            router.stop()
    finally:
        stop_instance(booking)
