"""OTLP/HTTP trace requests (protobuf or JSON) decoded and mapped to span documents.

OTLP JSON differs from protobuf's JSON mapping in one way that matters: trace and span ids are
hex strings, not base64, so they are converted before parsing.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from pipeline.documents import UNKNOWN_SERVICE, daily_index, iso_timestamp

ID_FIELDS = ("traceId", "spanId", "parentSpanId")
MAX_TIME_NANOSECONDS = 2**32 * 1_000_000_000  # the forward protocol's bound too (year 2106)


class BadTraceRequest(Exception):
    """The body is not an OTLP trace export request; the message says why (sent as 400)."""


def decode_request(body: bytes, json_body: bool) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    if not json_body:
        try:
            request.ParseFromString(body)
        except DecodeError as error:
            raise BadTraceRequest(f"the body is not an OTLP protobuf message: {error}") from error
        return request
    try:
        data = orjson.loads(body)
        if not isinstance(data, dict):
            raise BadTraceRequest("the JSON body must be an object with resourceSpans")
        for resource_spans in data.get("resourceSpans") or []:
            for scope_spans in resource_spans.get("scopeSpans") or []:
                for span in scope_spans.get("spans") or []:
                    hex_ids_to_base64(span)
                    for link in span.get("links") or []:
                        hex_ids_to_base64(link)
        json_format.ParseDict(data, request, ignore_unknown_fields=True)
    except (orjson.JSONDecodeError, json_format.ParseError, AttributeError, TypeError) as error:
        raise BadTraceRequest(f"the body is not OTLP JSON: {error}") from error
    return request


def hex_ids_to_base64(item: dict[str, Any]) -> None:
    for name in ID_FIELDS:
        value = item.get(name)
        if isinstance(value, str) and value:
            try:
                item[name] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError as error:
                raise BadTraceRequest(f"{name} {value[:40]!r} is not hex") from error


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


def attributes(pairs: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    pair: KeyValue
    for pair in pairs:
        result[pair.key] = any_value(pair.value)
    return result


def hex_id(raw: bytes) -> str:
    return binascii.hexlify(raw).decode()


def span_documents(request: ExportTraceServiceRequest) -> list[tuple[str, dict[str, Any]]]:
    """Every span as `(index, document)` with ECS names where ECS has one."""
    documents = []
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        service = str(resource.get("service.name") or UNKNOWN_SERVICE)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if span.start_time_unix_nano >= MAX_TIME_NANOSECONDS:
                    raise BadTraceRequest(f"span {span.name!r} has a start time out of range")
                document = span_document(span, service, resource)
                document["scope.name"] = scope_spans.scope.name
                if scope_spans.scope.version:
                    document["scope.version"] = scope_spans.scope.version
                seconds = span.start_time_unix_nano // 1_000_000_000
                documents.append((daily_index("traces", service, seconds), document))
    return documents


def span_document(span: Span, service: str, resource: dict[str, Any]) -> dict[str, Any]:
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    duration = max(end - start, 0)
    status = Status.StatusCode.Name(span.status.code).removeprefix("STATUS_CODE_")
    document: dict[str, Any] = {
        "@timestamp": iso_timestamp(start // 1_000_000_000, start % 1_000_000_000),
        "trace.id": hex_id(span.trace_id),
        "span.id": hex_id(span.span_id),
        "service.name": service,
        "span.name": span.name,
        "span.kind": Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_").lower(),
        "span.status.code": status,
        "event.outcome": {"OK": "success", "ERROR": "failure"}.get(status, "unknown"),
        "event.duration": duration,
        "span.duration_ms": duration / 1e6,
        "span.attributes": attributes(span.attributes),
        "resource.attributes": resource,
    }
    if span.parent_span_id:
        document["parent.id"] = hex_id(span.parent_span_id)
    if span.status.message:
        document["span.status.message"] = span.status.message
    if span.events:
        document["span.events"] = [
            {"name": e.name, "time_unix_nano": e.time_unix_nano, **attributes(e.attributes)}
            for e in span.events
        ]
        exception = next((e for e in span.events if e.name == "exception"), None)
        if exception is not None:
            details = attributes(exception.attributes)
            document["error.type"] = details.get("exception.type")
            document["error.message"] = details.get("exception.message")
    if span.links:
        document["span.links"] = [
            {"trace.id": hex_id(link.trace_id), "span.id": hex_id(link.span_id)}
            for link in span.links
        ]
    return document
