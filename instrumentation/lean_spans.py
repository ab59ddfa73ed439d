"""Spans of the hot paths (HTTP SERVER spans, SQL statements) recorded without the SDK's `Span`.

The SDK's span validates every attribute into a `BoundedAttributes` under a lock, copies itself
into a `ReadableSpan` at its end and goes through the span processors' hooks twice: with the
span's start and end that was ~15 % of an instrumented booking worker's CPU for the three spans
of a token request (docs/PERFORMANCE.md). A `LeanSpan` is what the exporter reads, kept as plain
fields; `LeanTracer` makes it with the provider's own sampler, id generator, resource, scope and
span processors, so the OTLP the pipeline receives is the SDK's: the same ids, parents, names,
kinds, attributes, status, exception events and flags
(tests/unit/instrumentation/test_lean_spans.py compares both).

What it leaves out: the SDK's own tracer metrics (`otel.sdk.span.*`, recorded only with a meter
provider, which no service here sets) and span limits other than the defaults (a provider with
limits of its own gets the SDK's spans).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from time import time_ns
from typing import Any

from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes, _clean_attribute_value
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, SpanLimits, TracerProvider
from opentelemetry.sdk.trace import Tracer as SdkTracer
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util import types

log = logging.getLogger(__name__)

_UNSET = Status(StatusCode.UNSET)
_PLAIN_VALUES = (str, int, float, bool)
# The SDK's defaults (128 attributes, events and links, values of any length): what LeanSpan keeps.
_DEFAULT_LIMITS = SpanLimits()


class LeanTracer(trace.Tracer):
    """`start_span` makes a `LeanSpan` (see module doc); anything else is the SDK tracer's."""

    def __init__(self, provider: TracerProvider, name: str) -> None:
        sdk_tracer = provider.get_tracer(name)
        self._sdk_tracer = sdk_tracer
        self._sampler = provider.sampler
        self._ids = provider.id_generator
        self._processor = provider._active_span_processor
        self.resource: Resource = provider.resource
        self.scope: InstrumentationScope | None = getattr(
            sdk_tracer, "_instrumentation_scope", None
        )
        self._parent_decides = _is_parent_based_always_on(provider.sampler)
        limits = provider._span_limits
        self._lean = (
            isinstance(sdk_tracer, SdkTracer)
            and limits.max_span_attributes == _DEFAULT_LIMITS.max_span_attributes
            and limits.max_events == _DEFAULT_LIMITS.max_events
            and limits.max_event_attributes == _DEFAULT_LIMITS.max_event_attributes
            and limits.max_attribute_length is None
        )

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace.Span:
        if links or not self._lean or not self._sdk_tracer._is_enabled():  # type: ignore[attr-defined]
            return self._sdk_tracer.start_span(
                name,
                context,
                kind,
                attributes,
                links,
                start_time,
                record_exception,
                set_status_on_exception,
            )
        parent: SpanContext | None = trace.get_current_span(context).get_span_context()
        if parent is None or not parent.is_valid:
            parent = None
            trace_id = self._ids.generate_trace_id()
            random_trace_id = self._ids.is_trace_id_random()
        else:
            trace_id = parent.trace_id
            random_trace_id = parent.trace_flags.random_trace_id
        if self._parent_decides:  # the default sampler's decision, without its objects
            sampled = recording = parent is None or parent.trace_flags.sampled
            trace_state = parent.trace_state if parent is not None else None
        else:
            result = self._sampler.should_sample(context, trace_id, name, kind, attributes, links)
            sampled = result.decision.is_sampled()  # type: ignore[no-untyped-call]
            recording = result.decision.is_recording()  # type: ignore[no-untyped-call]
            trace_state, attributes = result.trace_state, result.attributes
        flags = TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT
        if random_trace_id:
            flags |= TraceFlags.RANDOM_TRACE_ID
        span_context = SpanContext(
            trace_id,
            self._ids.generate_span_id(),
            is_remote=False,
            trace_flags=TraceFlags(flags),
            trace_state=trace_state,
        )
        if not recording:
            return trace.NonRecordingSpan(span_context)
        span = LeanSpan(name, span_context, parent, kind, self, attributes, start_time)
        self._processor.on_start(span, parent_context=context)  # type: ignore[arg-type]
        return span

    @contextmanager
    def start_as_current_span(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> Iterator[trace.Span]:
        with self._sdk_tracer.start_as_current_span(*args, **kwargs) as span:
            yield span

    def _ended(self, span: LeanSpan) -> None:
        self._processor._on_ending(span)  # type: ignore[arg-type]
        self._processor.on_end(span)  # type: ignore[arg-type]


def _is_parent_based_always_on(sampler: Sampler) -> bool:
    """The SDK's default sampler (`parentbased_always_on`): a span is sampled when it has no
    parent or a sampled one, and carries its parent's trace state."""
    return (
        type(sampler) is ParentBased
        and sampler._root is ALWAYS_ON
        and sampler._remote_parent_sampled is ALWAYS_ON
        and sampler._local_parent_sampled is ALWAYS_ON
        and sampler._remote_parent_not_sampled is ALWAYS_OFF
        and sampler._local_parent_not_sampled is ALWAYS_OFF
    )


class LeanSpan(trace.Span):
    """A recording span kept as the fields a `ReadableSpan` offers the exporter; frozen at its
    end, when it goes to the span processors as it is."""

    dropped_attributes = 0
    dropped_links = 0
    links: Sequence[Link] = ()

    def __init__(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        tracer: LeanTracer,
        attributes: Mapping[str, Any] | None,
        start_time: int | None,
    ) -> None:
        self.name = name
        self.context = context
        self.parent = parent
        self.kind = kind
        self._tracer = tracer
        self.resource = tracer.resource
        self.instrumentation_scope = tracer.scope
        self.end_time: int | None = None
        self.attributes: dict[str, Any] = {}
        if attributes:
            for key, value in attributes.items():
                self.set_attribute(key, value)
        self.events: list[Event] = []
        self.dropped_events = 0
        self.status = _UNSET
        self.start_time = start_time if start_time is not None else time_ns()

    def get_span_context(self) -> SpanContext:
        return self.context

    def is_recording(self) -> bool:
        return self.end_time is None

    def end(self, end_time: int | None = None) -> None:
        if self.end_time is not None:
            log.warning(
                "span %s ended twice", self.name, extra={"event": "telemetry.span.ended_twice"}
            )
            return
        self.end_time = end_time if end_time is not None else time_ns()
        self._tracer._ended(self)

    def _ended_already(self) -> bool:
        if self.end_time is not None:
            log.warning(
                "span %s changed after its end: ignored",
                self.name,
                extra={"event": "telemetry.span.changed_after_end"},
            )
            return True
        return False

    def set_attribute(self, key: str, value: types.AttributeValue) -> None:
        """BoundedAttributes' rules: a key set again moves to the end, the oldest drops out."""
        if self._ended_already():
            return
        if not key or not isinstance(key, str):
            log.warning(
                "span attribute key %r dropped: not a non-empty string",
                key,
                extra={"event": "telemetry.span.attribute_dropped"},
            )
            self.dropped_attributes += 1
            return
        if type(value) not in _PLAIN_VALUES:
            value = _clean_attribute_value(value, None)
        attributes = self.attributes
        if key in attributes:
            del attributes[key]
        elif len(attributes) >= (_DEFAULT_LIMITS.max_span_attributes or 0):
            del attributes[next(iter(attributes))]
            self.dropped_attributes += 1
        attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, types.AttributeValue]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def add_event(
        self, name: str, attributes: types.Attributes = None, timestamp: int | None = None
    ) -> None:
        if self._ended_already():
            return
        if len(self.events) >= (_DEFAULT_LIMITS.max_events or 0):
            self.dropped_events += 1
            return
        kept = BoundedAttributes(_DEFAULT_LIMITS.max_event_attributes, attributes, immutable=True)
        self.events.append(Event(name=name, attributes=kept, timestamp=timestamp))

    def update_name(self, name: str) -> None:
        if not self._ended_already():
            self.name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        """The SDK's rules: OK is final, UNSET never overwrites."""
        if self._ended_already():
            return
        if self.status.status_code is StatusCode.OK:
            return
        if isinstance(status, Status):
            if status.status_code is not StatusCode.UNSET:
                self.status = status
        elif status is not StatusCode.UNSET:
            self.status = Status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        """The SDK's `exception` event: type, message, stack trace, escaped."""
        module = type(exception).__module__
        qualname = type(exception).__qualname__
        exception_type = f"{module}.{qualname}" if module and module != "builtins" else qualname
        values: dict[str, Any] = {
            "exception.type": exception_type,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        if attributes:
            values.update(attributes)
        self.add_event("exception", values, timestamp)
