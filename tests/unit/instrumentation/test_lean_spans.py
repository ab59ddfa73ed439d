"""Lean spans (instrumentation/lean_spans.py) reach the exporter as the SDK's spans would: the
same OTLP for the same calls (ids, parents, names, kinds, attributes in order, status,
exception events, flags), and the same context for what runs inside them."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.common._internal.trace_encoder import _encode_span
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

from instrumentation.lean_spans import LeanSpan, LeanTracer
from instrumentation.span_encoding import SpanEncoder
from tests.support.telemetry_peers import KeptSpans

RESOURCE = Resource({"service.name": "booking", "service.instance.id": "test"})
SCOPE = "soundcheck.instrumentation"
CALLER = SpanContext(
    0x4BF92F3577B34DA6A3CE929D0E0E4736,
    0x00F067AA0BA902B7,
    is_remote=True,
    trace_flags=TraceFlags(1),
    trace_state=TraceState([("vendor", "x1")]),
)


class CountingIds(RandomIdGenerator):
    """The same ids, in the same order, for both tracers."""

    def __init__(self) -> None:
        self.counter = itertools.count(0x1000)

    def generate_span_id(self) -> int:
        return next(self.counter)

    def generate_trace_id(self) -> int:
        return next(self.counter) << 64 | 0xABC


def provider_keeping(kept: KeptSpans, **options: object) -> TracerProvider:
    provider = TracerProvider(resource=RESOURCE, id_generator=CountingIds(), **options)  # type: ignore[arg-type]
    provider.add_span_processor(SimpleSpanProcessor(kept))
    return provider


def a_request(tracer: trace.Tracer) -> None:
    """What the token route and its statements do with their spans, an error included."""
    server = tracer.start_span(
        "POST /queue/token",
        context=trace.set_span_in_context(trace.NonRecordingSpan(CALLER)),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": "POST", "url.path": "/queue/token"},
    )
    token = context.attach(trace.set_span_in_context(server))
    try:
        for operation in ("SELECT", "INSERT"):
            statement = tracer.start_span(
                f"{operation} soundcheck",
                kind=SpanKind.CLIENT,
                attributes={"db.system": "mysql", "server.port": 3306, "db.statement": "é" * 9},
            )
            if operation == "INSERT":
                try:
                    raise ConnectionError("lost the server")
                except ConnectionError as error:
                    statement.set_status(Status(StatusCode.ERROR, type(error).__name__))
                    statement.record_exception(error)
            statement.end()
        server.set_attribute("http.request.method", "POST")  # set again: moves to the end
        server.set_attribute("http.response.status_code", 503)
        server.set_attribute("tags", ["a", "b"])  # a list, kept as a tuple
        server.set_status(Status(StatusCode.ERROR, "HTTP 503"))
        server.set_status(Status(StatusCode.UNSET))  # never overwrites
    finally:
        server.end()
        context.detach(token)
    root = tracer.start_span("worker tick")  # no parent: a trace of its own
    root.set_status(StatusCode.OK)
    root.set_status(Status(StatusCode.ERROR, "too late"))  # OK is final
    root.end()


def encoded_without_times(span: ReadableSpan) -> bytes:
    message = _encode_span(span)
    message.start_time_unix_nano = message.end_time_unix_nano = 0
    for event in message.events:
        event.time_unix_nano = 0
    return bytes(message.SerializeToString())


def spans_of(make_tracer: Callable[[TracerProvider], trace.Tracer]) -> list[ReadableSpan]:
    kept = KeptSpans()
    a_request(make_tracer(provider_keeping(kept)))
    return kept.spans


def test_lean_spans_reach_the_exporter_as_the_sdks_spans_do() -> None:
    sdk = spans_of(lambda provider: provider.get_tracer(SCOPE))
    lean = spans_of(lambda provider: LeanTracer(provider, SCOPE))

    assert all(isinstance(span, LeanSpan) for span in lean)
    assert [span.name for span in lean] == [span.name for span in sdk]
    assert len(lean) == 4
    for made_by_sdk, made_lean in zip(sdk, lean, strict=True):
        assert encoded_without_times(made_lean) == encoded_without_times(made_by_sdk)
        assert made_lean.instrumentation_scope == made_by_sdk.instrumentation_scope
        assert made_lean.resource is made_by_sdk.resource
        assert made_lean.get_span_context() == made_by_sdk.get_span_context()
    server = lean[2]
    assert list(server.attributes or {}) == [
        "url.path",
        "http.request.method",
        "http.response.status_code",
        "tags",
    ]
    assert lean[1].events[0].attributes["exception.type"] == "ConnectionError"  # type: ignore[index]


def test_the_lean_encoder_writes_the_sdk_encoders_bytes_for_lean_spans() -> None:
    lean = spans_of(lambda provider: LeanTracer(provider, SCOPE))
    assert SpanEncoder().encode(lean) == encode_spans(lean).SerializePartialToString()


def test_a_span_the_sampler_drops_is_the_sdks_non_recording_span() -> None:
    for make in (lambda p: p.get_tracer(SCOPE), lambda p: LeanTracer(p, SCOPE)):
        kept = KeptSpans()
        provider = provider_keeping(kept, sampler=ParentBased(ALWAYS_OFF))
        span = make(provider).start_span("POST /queue/token", kind=SpanKind.SERVER)
        assert not span.is_recording()
        assert span.get_span_context().trace_flags == TraceFlags(TraceFlags.RANDOM_TRACE_ID)
        span.end()
        assert kept.spans == []


def test_a_span_ended_twice_is_exported_once_and_changes_after_its_end_are_ignored() -> None:
    kept = KeptSpans()
    span = LeanTracer(provider_keeping(kept), SCOPE).start_span("GET")
    span.end()
    span.set_attribute("late", 1)
    span.end()
    assert len(kept.spans) == 1
    assert kept.spans[0].attributes == {}


def test_under_the_default_sampler_a_span_follows_its_parents_decision_as_the_sdks_does() -> None:
    unsampled = SpanContext(
        CALLER.trace_id, CALLER.span_id, True, TraceFlags(0), CALLER.trace_state
    )
    for parent in (CALLER, unsampled, None):
        made = []
        for make in (lambda p: p.get_tracer(SCOPE), lambda p: LeanTracer(p, SCOPE)):
            provider = provider_keeping(KeptSpans(), sampler=ParentBased(ALWAYS_ON))
            within = trace.set_span_in_context(trace.NonRecordingSpan(parent)) if parent else None
            span = make(provider).start_span("GET", context=within)
            made.append((span.is_recording(), span.get_span_context()))
        assert made[0] == made[1]
        assert made[1][0] is (parent is not unsampled)
