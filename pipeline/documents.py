"""Records and spans become Elasticsearch documents in daily per-service indices."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

SERVICE_NAME_UNSAFE = re.compile(r"[^a-z0-9_-]+")
UNKNOWN_SERVICE = "unknown"
SECONDS_PER_DAY = 86_400
ERROR_LEVELS = ("ERROR", "CRITICAL", "FATAL", "error", "critical", "fatal")


def index_service(name: object) -> str:
    """A service name made safe for an index name (lower case, no wildcards or separators)."""
    text = SERVICE_NAME_UNSAFE.sub("-", str(name).lower()).strip("-_")
    return text[:100] or UNKNOWN_SERVICE


def daily_index(kind: str, service: str, seconds: float) -> str:
    return _daily_index(kind, service, int(seconds) // SECONDS_PER_DAY)


@lru_cache(maxsize=1024)
def _daily_index(kind: str, service: str, day_number: int) -> str:
    """Cached per service and day: this runs once per record on the hot path."""
    day = datetime.fromtimestamp(day_number * SECONDS_PER_DAY, UTC).strftime("%Y.%m.%d")
    return f"{kind}-{index_service(service)}-{day}"


def iso_timestamp(seconds: int, nanoseconds: int = 0) -> str:
    return _second_prefix(seconds) + f"{nanoseconds:09d}Z"


@lru_cache(maxsize=256)
def _second_prefix(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.")


def field(document: dict[str, Any], dotted: str) -> Any:
    """A field whether the sender wrote it dotted (`service.name`) or nested."""
    if dotted in document:
        return document[dotted]
    current: Any = document
    for part in dotted.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def log_document(
    tag: str, seconds: int, nanoseconds: int, record: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """One forward-protocol record as `(index, document)`.

    The record is kept as sent (the app writes ECS names); the event time becomes `@timestamp`
    unless the record has its own, the service comes from `service.name` or else the tag's first
    part, and the tag is kept in `event.dataset` when the record has none. The record itself
    becomes the document (it was decoded for this alone): copying it would cost CPU per record
    that Elasticsearch, on the same small machine, needs more.
    """
    document = record
    if not isinstance(document.get("@timestamp"), str):
        document["@timestamp"] = iso_timestamp(seconds, nanoseconds)
    service = document.get("service.name")
    if not isinstance(service, str) or not service:
        service = field(document, "service.name")
        if not isinstance(service, str) or not service:
            service = tag.split(".", 1)[0] or UNKNOWN_SERVICE
            if "service" not in document:
                document["service.name"] = service
    if "event" not in document and document.get("event.dataset") is None:
        document["event.dataset"] = tag
    return _daily_index("logs", service, seconds // SECONDS_PER_DAY), document


def log_documents(
    tag: str, entries: Iterable[tuple[int, int, dict[str, Any]]]
) -> list[tuple[str, dict[str, Any]]]:
    """Every `(seconds, nanoseconds, record)` entry of one message as `(index, document)`.

    The same result as `log_document` for each; the usual record (a `service.name`, no
    `@timestamp`, no `event`) is done inline, with the timestamp and index of the previous
    record reused when its time and service are the same: this runs once per record.
    """
    documents: list[tuple[str, dict[str, Any]]] = []
    append = documents.append
    last_time: tuple[int, int] | None = None
    last_service: str | None = None
    stamp = index = ""
    for seconds, nanoseconds, record in entries:
        service = record.get("service.name")
        if (
            type(service) is not str
            or not service
            or "@timestamp" in record
            or "event" in record
            or "event.dataset" in record
        ):
            append(log_document(tag, seconds, nanoseconds, record))
            continue
        if (seconds, nanoseconds) != last_time:
            if last_time is None or seconds != last_time[0]:
                last_service = None  # the day may have changed
            last_time = (seconds, nanoseconds)
            stamp = iso_timestamp(seconds, nanoseconds)
        if service != last_service:
            last_service = service
            index = _daily_index("logs", service, seconds // SECONDS_PER_DAY)
        record["@timestamp"] = stamp
        record["event.dataset"] = tag
        append((index, record))
    return documents


# Fields a degraded document keeps when Elasticsearch refused the full one (a mapping conflict).
DEGRADED_FIELDS = ("@timestamp", "message", "log.level", "service.name", "trace.id", "span.id")


def degraded_document(document: dict[str, Any], reason: str, original: str) -> dict[str, Any]:
    """Core fields as text plus the whole original in `event.original`: searchable, not lost."""
    kept: dict[str, Any] = {"@timestamp": document.get("@timestamp")}
    for name in DEGRADED_FIELDS[1:]:
        value = field(document, name)
        if isinstance(value, dict | list | tuple):
            kept[name] = nested_json(value)  # str() of a deep one would recurse too deep
        elif value is not None:
            kept[name] = value if isinstance(value, str) else str(value)
    timestamp = kept["@timestamp"]
    if not isinstance(timestamp, str) or not timestamp[:4].isdigit():
        kept["@timestamp"] = datetime.now(UTC).isoformat()
    kept["event.original"] = original
    kept["tags"] = ["pipeline.degraded"]
    kept["pipeline.rejection"] = reason[:1000]
    return kept


class _Text(str):
    """JSON punctuation already written out, as opposed to a value still to encode."""


def nested_json(value: Any) -> str:
    """`value` as JSON text however deep it is nested (orjson stops at 254 levels, Python's
    json at its recursion limit): a loop with its own stack instead of recursion. Strings that
    are not valid UTF-8 are kept replaced, bytes become text."""
    parts: list[str] = []
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, _Text):
            parts.append(item)
        elif isinstance(item, dict):
            pending.append(_Text("}"))
            for position, (key, inner) in reversed(list(enumerate(item.items()))):
                pending.append(inner)
                pending.append(_Text(("," if position else "") + _leaf_json(str(key)) + ":"))
            parts.append("{")
        elif isinstance(item, list | tuple):
            pending.append(_Text("]"))
            for position, inner in reversed(list(enumerate(item))):
                pending.append(inner)
                if position:
                    pending.append(_Text(","))
            parts.append("[")
        else:
            parts.append(_leaf_json(item))
    return "".join(parts)


def _leaf_json(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    elif isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # ext types, integers beyond 64 bits, ...
        return orjson.dumps(str(value)).decode()
