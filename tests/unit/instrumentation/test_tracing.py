"""O1 in-process: request spans exported over OTLP/HTTP; Kafka headers carry the trace context."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from opentelemetry import trace

from instrumentation.logs import LoggingSetup
from instrumentation.tracing import (
    extract_kafka_context,
    inject_kafka_headers,
    kafka_consume_span,
    kafka_produce_span,
)
from instrumentation.wsgi import instrument_flask
from tests.support.polling import eventually
from tests.support.telemetry_peers import shared_otlp_peer
from tests.support.telemetry_setup import configure, telemetry_settings


def spans_of(trace_id: str, count: int, within: float = 15) -> list[dict[str, object]]:
    peer = shared_otlp_peer()
    eventually(
        lambda: len(peer.trace(trace_id)) >= count,
        within,
        lambda: f"{count} spans of {trace_id}: {peer.trace(trace_id)}",
        every=0.05,
    )
    return peer.trace(trace_id)


def test_a_flask_request_becomes_a_server_span_named_by_route_and_its_log_lines_share_the_trace(
    capsys: pytest.CaptureFixture[str], logging_to: list[LoggingSetup]
) -> None:
    import json

    configure(logging_to, "span-test", telemetry_settings())
    app = Flask("span-test")

    @app.get("/seats/<int:seat_id>")
    def seat(seat_id: int) -> str:
        logging.getLogger("span-test").info("reading seat", extra={"event": "seat.read"})
        return "ok"

    instrument_flask(app, "span-test", telemetry_settings())
    assert app.test_client().get("/seats/7").status_code == 200

    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    mine = [x for x in lines if x.get("event.action") in ("seat.read", "http.request.completed")]
    assert len(mine) == 2
    trace_id = mine[0]["trace.id"]
    assert mine[1]["trace.id"] == trace_id
    (server,) = spans_of(trace_id, 1)
    assert server["name"] == "GET /seats/<int:seat_id>"
    assert server["kind"] == trace.SpanKind.SERVER.value + 1  # protobuf enum: SERVER = 2


def test_kafka_headers_round_trip_the_trace_context() -> None:
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("outer") as span:
        headers = inject_kafka_headers([("event-id", b"e1")])
    assert headers[0] == ("event-id", b"e1")
    context = trace.get_current_span(extract_kafka_context(headers)).get_span_context()
    assert context.trace_id == span.get_span_context().trace_id
    assert context.span_id == span.get_span_context().span_id


def test_consumer_span_is_child_of_and_linked_to_the_producer_span() -> None:
    shared_otlp_peer()
    with kafka_produce_span("payments", key="evt-1") as headers:
        producer = trace.get_current_span().get_span_context()
    with kafka_consume_span("payments", headers, group="ranking", partition=0, offset=5) as span:
        consumer = span.get_span_context()
    trace_id = format(producer.trace_id, "032x")
    spans = {s["name"]: s for s in spans_of(trace_id, 2)}
    assert consumer.trace_id == producer.trace_id
    assert spans["payments process"]["parent_id"] == format(producer.span_id, "016x")
    assert spans["payments process"]["links"] == [(trace_id, format(producer.span_id, "016x"))]
    assert spans["payments publish"]["attributes"]["messaging.destination.name"] == "payments"


def test_a_message_without_trace_headers_starts_a_new_trace() -> None:
    with kafka_consume_span("payments", None) as span:
        assert span.get_span_context().is_valid
