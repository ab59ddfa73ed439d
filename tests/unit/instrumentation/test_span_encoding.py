"""The lean span encoder (instrumentation/span_encoding.py) writes exactly the bytes of the OTLP
exporter's own encoder, for the spans the services make and the rare kinds it hands back."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

from instrumentation.span_encoding import SpanEncoder
from tests.support.telemetry_peers import KeptSpans


def made_spans() -> list[ReadableSpan]:
    kept = KeptSpans()
    spans: list[ReadableSpan] = []
    for service in ("booking", "router"):
        provider = TracerProvider(resource=Resource({"service.name": service, "host.cpus": 2}))
        provider.add_span_processor(SimpleSpanProcessor(kept))
        tracer = provider.get_tracer("soundcheck.instrumentation", "1.0", "https://schema/1")
        other = provider.get_tracer("redis")
        caller = SpanContext(
            0x4BF92F3577B34DA6A3CE929D0E0E4736,
            0x00F067AA0BA902B7,
            is_remote=True,
            trace_flags=TraceFlags(1),
            trace_state=TraceState([("vendor", "x1")]),
        )
        with tracer.start_as_current_span(
            "POST /queue/token",
            context=trace.set_span_in_context(trace.NonRecordingSpan(caller)),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": "POST", "client.address": "127.0.0.1"},
        ) as server:
            for operation in ("SELECT", "INSERT", "SELECT"):
                with tracer.start_as_current_span(
                    f"{operation} soundcheck",
                    kind=SpanKind.CLIENT,
                    attributes={
                        "db.system": "mysql",
                        "server.port": 3306,
                        "db.statement": f"{operation} ... é" * 40,
                    },
                ):
                    pass
            with other.start_as_current_span(
                "GET", attributes={"ratio": 0.5, "cached": True, "keys": ("a", "b")}
            ) as failing:
                failing.set_status(Status(StatusCode.ERROR, "TimeoutError"))
            with tracer.start_as_current_span("boom") as boom:
                boom.record_exception(ValueError("bad"))
            with tracer.start_as_current_span("linked", links=[Link(caller, {"why": "kafka"})]):
                pass
            server.set_attribute("http.response.status_code", 503)
            server.set_status(Status(StatusCode.ERROR))
        with tracer.start_as_current_span("root-without-parent", kind=SpanKind.CONSUMER):
            pass
        spans = kept.spans
    return spans


def test_the_lean_encoder_writes_the_sdk_encoders_bytes() -> None:
    spans = made_spans()
    encoder = SpanEncoder()
    expected = encode_spans(spans).SerializePartialToString()
    assert encoder.encode(spans) == expected
    assert encoder.encode(spans) == expected  # again, from its kept attributes and resources
    decoded = ExportTraceServiceRequest.FromString(encoder.encode(spans))
    assert len(decoded.resource_spans) == 2
    assert sum(len(s.spans) for r in decoded.resource_spans for s in r.scope_spans) == len(spans)


def test_an_empty_batch_is_an_empty_request() -> None:
    assert SpanEncoder().encode([]) == encode_spans([]).SerializePartialToString() == b""
