"""OTLP/protobuf bytes for a batch of spans, written directly: what the OTLP exporter's own
encoder (`encode_spans(...).SerializePartialToString()`) makes, byte for byte, at a fraction of
its CPU.

The SDK's encoder builds a protobuf message per span, per attribute and per value, ~40 µs a span
on this machine, in every process's export thread, for each of a request's spans (the booking
token request has three; docs/PERFORMANCE.md). Here a span's fixed fields are written as wire
bytes, and each attribute's encoded KeyValue is kept by (key, value): a service's spans repeat
the same methods, routes, statements and addresses, so nearly every attribute is a dict lookup.
What is rare (span events and links, resources, scopes, a value not seen yet) still goes through
the SDK's own message classes, so the output cannot drift from the protocol;
tests/unit/instrumentation/test_span_encoding.py compares both encoders' bytes.
"""

from __future__ import annotations

import logging
import struct
import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common._internal import (
    _encode_instrumentation_scope,
    _encode_key_value,
    _encode_resource,
)
from opentelemetry.exporter.otlp.proto.common._internal.trace_encoder import _encode_span
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

# Field keys (field number << 3 | wire type) of the OTLP trace messages this writes.
_LENGTH, _FIXED64, _FIXED32, _VARINT = 2, 1, 5, 0
_REQUEST_RESOURCE_SPANS = 1 << 3 | _LENGTH
_RESOURCE, _SCOPE_SPANS, _RESOURCE_SCHEMA = 1 << 3 | _LENGTH, 2 << 3 | _LENGTH, 3 << 3 | _LENGTH
_SCOPE, _SPANS, _SCOPE_SCHEMA = 1 << 3 | _LENGTH, 2 << 3 | _LENGTH, 3 << 3 | _LENGTH
_TRACE_ID = bytes([1 << 3 | _LENGTH, 16])
_SPAN_ID = bytes([2 << 3 | _LENGTH, 8])
_TRACE_STATE = 3 << 3 | _LENGTH
_PARENT_ID = bytes([4 << 3 | _LENGTH, 8])
_NAME = 5 << 3 | _LENGTH
_KIND = 6 << 3 | _VARINT
_START = bytes([7 << 3 | _FIXED64])
_END = bytes([8 << 3 | _FIXED64])
_ATTRIBUTE = 9 << 3 | _LENGTH
_DROPPED_ATTRIBUTES = 10 << 3 | _VARINT
_STATUS = 15 << 3 | _LENGTH
_STATUS_MESSAGE, _STATUS_CODE = 2 << 3 | _LENGTH, 3 << 3 | _VARINT
_FLAGS = b"\x85\x01"  # field 16, fixed32
_HAS_IS_REMOTE, _IS_REMOTE = 0x100, 0x200  # SpanFlags
_TIMES = struct.Struct("<Q")
_FLAG_VALUE = struct.Struct("<I")
_MAX_KEPT_ATTRIBUTES = 4096
log = logging.getLogger(__name__)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(key: int, payload: bytes) -> bytes:
    return bytes([key]) + _varint(len(payload)) + payload


def _text(key: int, value: str) -> bytes:
    return _field(key, value.encode()) if value else b""


class SpanEncoder:
    """`encode(spans)`: the ExportTraceServiceRequest bytes. One per exporter (its caches are
    guarded for the exporter's thread and a flush from another)."""

    def __init__(self) -> None:
        self._attributes: dict[tuple[str, type, Any], bytes] = {}
        self._resources: dict[int, tuple[Resource, bytes]] = {}
        self._scopes: dict[InstrumentationScope | None, bytes] = {}
        self._lock = threading.Lock()

    def encode(self, spans: Sequence[ReadableSpan]) -> bytes:
        with self._lock:
            return self._request(spans)

    def _request(self, spans: Sequence[ReadableSpan]) -> bytes:
        # By identity: a Resource hashes by serialising its attributes to JSON, every time.
        resources: dict[int, Resource] = {}
        grouped: dict[int, dict[InstrumentationScope | None, list[bytes]]] = {}
        for span in spans:
            resources.setdefault(id(span.resource), span.resource)
            scopes = grouped.setdefault(id(span.resource), {})
            scopes.setdefault(span.instrumentation_scope or None, []).append(self._span(span))
        out = []
        for key, scopes in grouped.items():
            resource = resources[key]
            scope_spans = b"".join(
                _field(_SCOPE_SPANS, self._scope_spans(scope, encoded))
                for scope, encoded in scopes.items()
            )
            body = (
                _field(_RESOURCE, self._resource(resource))
                + scope_spans
                + _text(_RESOURCE_SCHEMA, resource.schema_url)
            )
            out.append(_field(_REQUEST_RESOURCE_SPANS, body))
        return b"".join(out)

    def _resource(self, resource: Resource) -> bytes:
        kept = self._resources.get(id(resource))
        if kept is None or kept[0] is not resource:
            kept = (resource, _encode_resource(resource).SerializePartialToString())
            self._resources[id(resource)] = kept
        return kept[1]

    def _scope_spans(self, scope: InstrumentationScope | None, spans: list[bytes]) -> bytes:
        encoded = self._scopes.get(scope)
        if encoded is None:
            payload = b""  # no scope: an empty one, as the SDK writes it
            if scope is not None:
                payload = _encode_instrumentation_scope(scope).SerializePartialToString()
            encoded = _field(_SCOPE, payload)
            self._scopes[scope] = encoded
        schema = _text(_SCOPE_SCHEMA, scope.schema_url) if scope and scope.schema_url else b""
        return encoded + b"".join(_field(_SPANS, span) for span in spans) + schema

    def _attribute(self, key: str, value: Any) -> bytes:
        kept_as = (key, type(value), value)
        try:
            encoded = self._attributes.get(kept_as)
        except TypeError:  # a list value: not kept
            return _field(_ATTRIBUTE, _encode_key_value(key, value).SerializePartialToString())
        if encoded is None:
            encoded = _field(_ATTRIBUTE, _encode_key_value(key, value).SerializePartialToString())
            if len(self._attributes) >= _MAX_KEPT_ATTRIBUTES:
                self._attributes.clear()
            self._attributes[kept_as] = encoded
        return encoded

    def _span(self, span: ReadableSpan) -> bytes:
        context = span.get_span_context()
        if span.events or span.links or context is None:
            # Exceptions and Kafka consumers: rare, the SDK's way.
            return bytes(_encode_span(span).SerializePartialToString())
        parts = [
            _TRACE_ID,
            context.trace_id.to_bytes(16, "big"),
            _SPAN_ID,
            context.span_id.to_bytes(8, "big"),
        ]
        if context.trace_state:
            state = ",".join(f"{key}={value}" for key, value in context.trace_state.items())
            parts.append(_text(_TRACE_STATE, state))
        parent = span.parent
        if parent is not None:
            parts += (_PARENT_ID, parent.span_id.to_bytes(8, "big"))
        parts.append(_text(_NAME, span.name))
        kind = span.kind.value + 1  # the SDK's INTERNAL = 0 is OTLP's SPAN_KIND_INTERNAL = 1
        parts.append(bytes([_KIND, kind]))
        parts += (_START, _TIMES.pack(span.start_time or 0), _END, _TIMES.pack(span.end_time or 0))
        for key, value in (span.attributes or {}).items():
            parts.append(self._attribute(key, value))
        if span.dropped_attributes:
            parts.append(bytes([_DROPPED_ATTRIBUTES]) + _varint(span.dropped_attributes))
        status = span.status
        code = status.status_code.value
        parts.append(
            _field(
                _STATUS,
                _text(_STATUS_MESSAGE, status.description or "")
                + (bytes([_STATUS_CODE, code]) if code else b""),
            )
        )
        flags = _HAS_IS_REMOTE | (_IS_REMOTE if parent is not None and parent.is_remote else 0)
        parts += (_FLAGS, _FLAG_VALUE.pack(flags))
        return b"".join(parts)


class LeanOtlpSpanExporter(OTLPSpanExporter):
    """The SDK's OTLP/HTTP span exporter (endpoint, headers, timeout, compression and retries from
    the OTEL_EXPORTER_OTLP_* variables) with the batch encoded by `SpanEncoder`."""

    def __init__(self) -> None:
        super().__init__()
        self._encoder = SpanEncoder()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            return SpanExportResult.FAILURE
        try:
            data = self._encoder.encode(spans)
        except Exception:
            log.exception(
                "a batch of %d spans could not be encoded",
                len(spans),
                extra={"event": "telemetry.spans.encoding_failed"},
            )
            return SpanExportResult.FAILURE
        if self._client.export(data).success:
            return SpanExportResult.SUCCESS
        return SpanExportResult.FAILURE
