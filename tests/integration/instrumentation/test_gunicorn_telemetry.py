"""Instrumentation under real gunicorn (3 workers) against the real MariaDB and Redis:
multiprocess metrics, traces with HTTP/SQL/Redis spans over OTLP/HTTP, logs carrying the trace
id, no secrets, and a killed log receiver that neither fails requests nor loses count."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from booking_app import metrics as booking_metrics
from instrumentation import metrics
from tests.support.polling import eventually
from tests.support.telemetry_peers import ForwardPeer, ForwardPeerProcess, OtlpPeer

StartApp = Callable[..., Any]


@pytest.fixture(scope="module")
def shared_app(start_app: StartApp, forward_peer: ForwardPeer) -> Any:
    """One 3-worker app for the tests that only read what it emits (gunicorn starts are slow)."""
    return start_app(forward_peer, workers=3, TEST_WORK_SECONDS="0.02")


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def sample(text: str, name: str, **labels: str) -> float:
    return samples(text, name).get(tuple(sorted(labels.items())), 0.0)


def exposed_names(text: str) -> set[str]:
    return {
        f.name + "_total" if f.type == "counter" else f.name
        for f in text_string_to_metric_families(text)
    }


def burst(app: Any, path: str, requests: int, concurrency: int) -> list[float]:
    """Latencies (s) of `requests` GETs from `concurrency` clients, each on its own connection."""

    def one(_: int) -> float:
        started = time.perf_counter()
        status, _body = app.get(path)
        elapsed = time.perf_counter() - started
        assert status == 200
        return elapsed

    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, range(requests)))


def test_three_workers_sum_their_counters_and_show_every_o2_metric(shared_app: Any) -> None:
    app = shared_app
    text = app.metrics()  # the readiness probe's requests are counted too
    before = sample(text, "http_requests_total", method="GET", handler="/pid", status="200")
    timed_before = sample(text, "http_request_duration_seconds_count", method="GET", handler="/pid")
    pids = set()
    with ThreadPoolExecutor(6) as pool:
        for response in pool.map(lambda _: app.get("/pid"), range(90)):
            assert response[0] == 200
            pids.add(json.loads(response[1])["pid"])
    assert len(pids) >= 2, "the requests were not spread over several workers"

    text = app.metrics()
    counted = sample(text, "http_requests_total", method="GET", handler="/pid", status="200")
    assert counted - before == 90
    timed = sample(text, "http_request_duration_seconds_count", method="GET", handler="/pid")
    assert timed - timed_before == 90
    defined = {
        m._name + "_total" if m._type == "counter" else m._name  # type: ignore[attr-defined]
        for m in (*metrics.SHARED_METRICS, *booking_metrics.BOOKING_METRICS)
    }
    assert not defined - exposed_names(text), f"missing: {sorted(defined - exposed_names(text))}"
    assert sample(text, "db_pool_size") == 3 * 2  # livesum over the three workers

    # A worker dies: its counts stay, its live gauge goes, its replacement's comes.
    victim = next(iter(pids))
    os.kill(victim, signal.SIGKILL)

    def replacement_reporting() -> bool:
        workers = {child.pid for child in psutil.Process(app.process.pid).children()}
        files = {path.name for path in app.metrics_dir.iterdir()}
        return (
            victim not in workers
            and len(workers) == 3
            and f"gauge_livesum_{victim}.db" not in files
            and all(f"gauge_livesum_{pid}.db" in files for pid in workers)
            and sample(app.metrics(), "db_pool_size") == 3 * 2
        )

    # Without mark_process_dead the dead worker's 2 would still be added (8, not 6).
    started = time.monotonic()
    eventually(replacement_reporting, 60, "a replacement worker and no live gauge of the dead one")
    print(f"replacement reporting after {time.monotonic() - started:.1f} s")
    text = app.metrics()
    assert sample(text, "http_requests_total", method="GET", handler="/pid", status="200") == (
        before + 90
    )


def test_a_request_is_one_trace_with_http_sql_and_redis_spans_and_its_logs_carry_it(
    shared_app: Any, forward_peer: ForwardPeer, otlp_peer: OtlpPeer
) -> None:
    assert shared_app.get("/work")[0] == 200

    def request_logs() -> list[dict[str, Any]]:
        return [
            r
            for r in forward_peer.messages()
            if r.get("url.path") == "/work" and r.get("event.action") == "http.request.completed"
        ]

    (completed,) = eventually(request_logs, 30, "the request's log line shipped")
    trace_id = completed["trace.id"]
    assert len(trace_id) == 32
    assert completed["http.response.status_code"] == 200

    def whole_trace() -> list[dict[str, Any]] | None:
        spans = otlp_peer.trace(trace_id)
        kinds = {
            span["attributes"].get("db.system") or span["attributes"].get("db.system.name")
            for span in spans
        }
        return spans if {"mysql", "redis"} <= kinds and len(spans) >= 3 else None

    spans = eventually(whole_trace, 30, f"HTTP, SQL and Redis spans of trace {trace_id}")
    (server,) = [s for s in spans if s["name"] == "GET /work"]
    assert server["service"] == "instrumented-test-app"
    assert server["parent_id"] == ""
    for span in spans:
        if span is not server:
            assert span["parent_id"] == server["span_id"], span

    work_lines = [r for r in forward_peer.messages() if r.get("event.action") == "work.done"]
    assert [line["trace.id"] for line in work_lines] == [trace_id]
    assert work_lines[0]["span.id"] == server["span_id"]
    assert completed["span.id"] == server["span_id"]


def test_no_secret_reaches_gunicorn_stdout_or_the_log_receiver(
    shared_app: Any, forward_peer: ForwardPeer
) -> None:
    app = shared_app
    assert app.get("/login")[0] == 200
    eventually(
        lambda: len([r for r in forward_peer.messages() if r.get("url.path") == "/login"]) == 1,
        30,
        "login request logged",
    )
    shipped = repr(forward_peer.messages())
    stdout = app.log_path.read_text()
    for secret in ("pa55-word-never-logged", "router-token-never-logged"):
        assert secret not in shipped
        assert secret not in stdout
    assert "[REDACTED]" in stdout
    assert "[REDACTED]" in shipped


def test_requests_are_answered_and_every_drop_counted_while_the_log_receiver_is_killed(
    start_app: StartApp,
) -> None:
    """Shipping never fails a request (O3): bursts with the receiver up and SIGKILLed, again and
    again, every request answered and every record beyond the workers' buffers counted as
    dropped. What shipping to a dead receiver costs in time is measured by
    `bench/logging_overhead.py` (its `ecs-down` row against `plain`), not asserted here.
    """
    receiver = ForwardPeerProcess().start()  # this test's own receiver: it gets SIGKILLed
    try:
        lines_per_request = 5
        buffer_per_worker = 50
        rounds, per_round = 12, 30
        app = start_app(
            receiver,
            workers=3,
            TEST_WORK_SECONDS="0.02",
            TEST_EXTRA_LOG_LINES=str(lines_per_request),
            SOUNDCHECK_LOG_BUFFER_RECORDS=str(buffer_per_worker),
        )
        burst(app, "/pid", 60, 3)  # warm-up: imports, first spans, first connections
        dropped_while_killed = 0.0

        def measure_with_receiver_up() -> None:
            eventually(lambda: sample(app.metrics(), "log_records_buffered") == 0, 30, "flushed")
            burst(app, "/pid", per_round, 1)

        def measure_with_receiver_killed() -> None:
            nonlocal dropped_while_killed
            before = sum(samples(app.metrics(), "log_records_dropped_total").values())
            receiver.kill()
            burst(app, "/pid", per_round, 1)
            after = sum(samples(app.metrics(), "log_records_dropped_total").values())
            dropped_while_killed += after - before
            # Everything beyond what the three workers may hold is dropped, and counted.
            assert after - before >= per_round * (lines_per_request + 1) - 3 * buffer_per_worker
            receiver.start()

        for number in range(rounds):  # the order alternates too, so neither side always goes first
            first, second = measure_with_receiver_up, measure_with_receiver_killed
            if number % 2:
                first, second = second, first
            first()
            second()

        text = app.metrics()
        assert (
            sample(text, "log_records_dropped_total", reason="buffer_full") >= dropped_while_killed
        )
        eventually(
            lambda: sample(app.metrics(), "log_records_buffered") == 0,
            30,
            "records buffered during the last outage flushed after the receiver came back",
        )
    finally:
        receiver.kill()  # also when an assertion failed: no receiver process outlives the test
