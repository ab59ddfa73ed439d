"""O2: every metric at `/metrics` with its exact name, request metrics by route template."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from booking_app import metrics as booking_metrics
from instrumentation import metrics
from instrumentation.asgi import instrument_fastapi
from instrumentation.wsgi import instrument_flask
from tests.support.telemetry_setup import telemetry_settings

# SPEC O2 and the names the alert rules are written on (docs/instrumentation.md): the ones every
# service shares, and the booking service's own.
SHARED_O2_METRICS = {
    "http_requests_total",
    "http_request_duration_seconds",
    "redis_commands_total",
    "db_queries_total",
    "log_records_dropped_total",
}
O2_METRICS = SHARED_O2_METRICS | {
    "reservation_created_total",
    "payment_amount_krw",
    "queue_waiting_tokens",
    "distributed_lock_wait_duration_seconds",
    "distributed_lock_failures_total",
    "cache_hits_total",
    "cache_requests_total",
    "db_pool_connections_in_use",
    "db_pool_size",
    "kafka_messages_produced_total",
    "kafka_messages_failed_total",
    "kafka_consumer_lag",
    "outbox_pending_events",
    "circuit_breaker_state",
    "degraded_mode_active",
}
DOC = Path(__file__).resolve().parents[3] / "docs" / "instrumentation.md"


def exposed_names(text: str) -> set[str]:
    """Metric names as a PromQL user writes them (counters with `_total`)."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name + "_total" if family.type == "counter" else family.name)
    return names


def defined_names() -> set[str]:
    return {
        m._name + "_total" if m._type == "counter" else m._name  # type: ignore[attr-defined]
        for m in (*metrics.SHARED_METRICS, *booking_metrics.BOOKING_METRICS)
    }


def flask_app() -> Flask:
    app = Flask("metrics-test")

    @app.get("/concerts/<int:concert_id>")
    def concert(concert_id: int) -> str:
        return str(concert_id)

    @app.get("/fail")
    def fail() -> str:
        raise RuntimeError("boom")

    return instrument_flask(
        app,
        "metrics-test",
        telemetry_settings(),
        service_metrics=booking_metrics.BOOKING_METRICS,
    )


def test_flask_metrics_endpoint_shows_every_o2_metric() -> None:
    response = flask_app().test_client().get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    missing = O2_METRICS - exposed_names(response.get_data(as_text=True))
    assert not missing, f"not at /metrics: {sorted(missing)}"


def test_requests_are_counted_by_route_template_method_and_status() -> None:
    client = flask_app().test_client()
    before = metrics.HTTP_REQUESTS.labels("GET", "/concerts/<int:concert_id>", "200")._value.get()
    failed_before = metrics.HTTP_REQUESTS.labels("GET", "/fail", "500")._value.get()
    for concert_id in (1, 2, 3):
        assert client.get(f"/concerts/{concert_id}").status_code == 200
    assert client.get("/fail").status_code == 500
    assert client.get("/no/such/path").status_code == 404

    text = client.get("/metrics").get_data(as_text=True)
    counted = metrics.HTTP_REQUESTS.labels("GET", "/concerts/<int:concert_id>", "200")
    assert counted._value.get() - before == 3
    assert metrics.HTTP_REQUESTS.labels("GET", "/fail", "500")._value.get() - failed_before == 1
    assert 'handler="unmatched"' in text
    assert 'status="404"' in text
    assert "/concerts/1" not in text  # raw paths never become label values


def test_openmetrics_scrapes_get_exemplars_with_the_trace_id() -> None:
    client = flask_app().test_client()
    assert client.get("/concerts/5").status_code == 200
    response = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    text = response.get_data(as_text=True)
    assert response.content_type.startswith("application/openmetrics-text")
    assert text.rstrip().endswith("# EOF")
    exemplars = re.findall(
        r'^http_request_duration_seconds_bucket\{[^}]*handler="/concerts/<int:concert_id>"'
        r'[^}]*\} \S+ # \{trace_id="([0-9a-f]{32})"\}',
        text,
        re.MULTILINE,
    )
    assert exemplars


def test_latency_histogram_has_a_bucket_at_each_alert_threshold() -> None:
    for threshold in (0.5, 1.0):
        assert threshold in metrics.HTTP_LATENCY_BUCKETS
    assert 2.0 in booking_metrics.LOCK_WAIT_BUCKETS
    assert 3.0 in booking_metrics.LOCK_WAIT_BUCKETS


def test_fastapi_app_gets_the_same_request_metrics_and_endpoint() -> None:
    app = FastAPI()

    @app.get("/alerts/{alert_id}")
    def alert(alert_id: str) -> dict[str, str]:
        return {"id": alert_id}

    instrument_fastapi(app, "router-test", telemetry_settings())
    client = TestClient(app)
    before = metrics.HTTP_REQUESTS.labels("GET", "/alerts/{alert_id}", "200")._value.get()
    assert client.get("/alerts/a1").status_code == 200
    assert client.get("/alerts/a2").status_code == 200
    after = metrics.HTTP_REQUESTS.labels("GET", "/alerts/{alert_id}", "200")._value.get()
    assert after - before == 2
    # The shared ones: the booking service's own are not the router's (see
    # tests/integration/test_service_metrics.py for the real services' /metrics).
    assert exposed_names(client.get("/metrics").text) >= SHARED_O2_METRICS


def test_fastapi_app_with_its_own_metrics_route_keeps_it() -> None:
    app = FastAPI()

    @app.get("/metrics")
    def own() -> str:
        return "own"

    instrument_fastapi(app, "router-test", telemetry_settings())
    assert TestClient(app).get("/metrics").json() == "own"


def test_switched_off_adds_no_request_metrics_but_keeps_the_endpoint() -> None:
    app = Flask("off-test")

    @app.get("/off-route")
    def route() -> str:
        return "ok"

    instrument_flask(app, "off-test", telemetry_settings(instrumentation="off"))
    client = app.test_client()
    assert client.get("/off-route").status_code == 200
    text = client.get("/metrics").get_data(as_text=True)
    assert "/off-route" not in text
    assert "http_requests_total" in exposed_names(text)


def test_every_defined_metric_is_documented_and_every_documented_metric_exists() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(), re.MULTILINE))
    assert documented == defined_names()
    assert defined_names() >= O2_METRICS
