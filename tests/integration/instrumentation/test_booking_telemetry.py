"""The real booking service (gunicorn, its own database) instrumented end to end: one request's
trace holds HTTP, SQL and Redis spans exported over OTLP/HTTP, its log lines (shipped over the
forward protocol) carry that trace id, and its `/metrics` shows every O2 metric."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import redis
from prometheus_client.parser import text_string_to_metric_families

from booking_app import metrics as booking_metrics
from instrumentation import metrics
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import drop_database, fresh_database, spawn_booking
from soundcheck.stack.stack import Stack
from tests.support.polling import eventually
from tests.support.telemetry_peers import ForwardPeer, OtlpPeer, free_port

REDIS_DB = 12  # a database number no other test module uses (test_metrics_port.py has 9)


def test_booking_request_trace_logs_and_metrics(
    settings: StackSettings, stack: Stack, otlp_peer: OtlpPeer
) -> None:
    forward = ForwardPeer().start()
    database = f"{settings.mariadb_database}_instrumentation"
    fresh_database(settings, database)
    redis.Redis(host=settings.host, port=settings.redis_port, db=REDIS_DB).flushdb()
    port = free_port()
    process, _ = spawn_booking(
        settings,
        settings.home / "instrumentation-tests" / "booking",
        port,
        database,
        {
            "BOOKING_REDIS_DB": str(REDIS_DB),
            "BOOKING_TOPIC_PREFIX": f"instrumentation-{uuid.uuid4().hex[:8]}.",
            "BOOKING_WORKERS": "2",
            "BOOKING_RUN_WORKER": "0",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_peer.endpoint,
            "SOUNDCHECK_FLUENT_HOST": "127.0.0.1",
            "SOUNDCHECK_FLUENT_PORT": str(forward.port),
        },
    )
    url = f"http://{settings.host}:{port}"
    try:

        def healthy() -> bool:
            assert process.is_alive(), process.log_tail(30)
            try:
                return httpx.get(f"{url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(healthy, 120, "the booking service answers /health")
        answer = httpx.get(f"{url}/concerts", timeout=30)
        assert answer.status_code == 200
        assert answer.headers["X-Cache-Hit"] == "false"  # read through Redis into MariaDB
        # Sent now, so that its spans and log line leave in the same batches as the first's.
        token = httpx.post(f"{url}/queue/token", json={"userId": "traced-user"}, timeout=30)
        assert token.status_code == 201, token.text

        def request_line() -> list[dict[str, Any]]:
            return [
                r
                for r in forward.messages()
                if r.get("url.path") == "/concerts"
                and r.get("event.action") == "http.request.completed"
            ]

        (line,) = eventually(request_line, 30, "the request's log line shipped")
        trace_id = line["trace.id"]
        assert line["service.name"] == "booking"  # the service names itself

        def systems() -> set[str] | None:
            found = {
                str(s["attributes"].get("db.system") or s["attributes"].get("db.system.name"))
                for s in otlp_peer.trace(trace_id)
            }
            return found if {"mysql", "redis"} <= found else None

        eventually(systems, 30, f"SQL and Redis spans in trace {trace_id}")
        spans = otlp_peer.trace(trace_id)
        (server,) = [s for s in spans if s["parent_id"] == ""]
        assert server["name"] == "GET /concerts"
        assert server["service"] == "booking"
        assert all(s["trace_id"] == trace_id for s in spans)

        token_request_is_traced_logged_and_counted(forward, otlp_peer)

        text = httpx.get(f"{url}/metrics", timeout=30).text
        exposed = {
            f.name + "_total" if f.type == "counter" else f.name
            for f in text_string_to_metric_families(text)
        }
        defined = {
            m._name + "_total" if m._type == "counter" else m._name  # type: ignore[attr-defined]
            for m in (*metrics.SHARED_METRICS, *booking_metrics.BOOKING_METRICS)
        }
        assert not defined - exposed, f"missing at the booking /metrics: {defined - exposed}"
        assert 'http_requests_total{handler="/concerts",method="GET",status="200"}' in text
        # POST /queue/token is answered in front of Flask (booking_app/token_route.py).
        assert 'http_requests_total{handler="/queue/token",method="POST",status="201"}' in text
    finally:
        process.stop()
        forward.stop()
        drop_database(settings, database)


def token_request_is_traced_logged_and_counted(forward: ForwardPeer, otlp_peer: OtlpPeer) -> None:
    """POST /queue/token, answered outside Flask, gets the telemetry of any other route: its
    SERVER span with the route's name and the SQL spans under it, its log line with the trace
    id."""

    def token_line() -> list[dict[str, Any]]:
        return [
            r
            for r in forward.messages()
            if r.get("url.path") == "/queue/token" and r.get("http.response.status_code") == 201
        ]

    (line,) = eventually(token_line, 30, "the token request's log line shipped")
    assert line["event.action"] == "http.request.completed"
    assert line["http.route"] == "/queue/token"
    trace_id = str(line["trace.id"])

    def server_and_sql() -> list[dict[str, Any]] | None:
        spans = otlp_peer.trace(trace_id)
        sql = [s for s in spans if s["attributes"].get("db.system") == "mysql"]
        return spans if sql and any(s["parent_id"] == "" for s in spans) else None

    spans = eventually(server_and_sql, 30, f"the server and SQL spans of trace {trace_id}")
    (server,) = [s for s in spans if s["parent_id"] == ""]
    assert server["name"] == "POST /queue/token"
    assert server["kind"] == 2  # protobuf enum: SERVER
    assert server["attributes"]["http.route"] == "/queue/token"
    assert server["attributes"]["http.response.status_code"] == 201
    sql = [s for s in spans if s["attributes"].get("db.system") == "mysql"]
    assert all(s["parent_id"] == server["span_id"] for s in sql)
