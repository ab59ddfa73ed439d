"""A record as bulk lines: its document encoded whatever the sender put in it, and where whole
records end in bulk bytes (every record is an action line and a document line).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from pipeline import metrics
from pipeline.documents import degraded_document, nested_json

log = logging.getLogger("pipeline.buffer")  # the buffer's warning, as before the split
ORJSON_DEPTH = 254  # orjson refuses to encode containers nested deeper than this


def json_default(value: object) -> Any:
    """What orjson cannot encode on its own (msgpack bin, ext types, sets) becomes text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def encode_document(document: dict[str, Any]) -> bytes:
    try:
        return orjson.dumps(document)  # the common case, and the fast one
    except orjson.JSONEncodeError:
        pass
    try:  # msgpack bin values, ext types, integer keys
        return orjson.dumps(document, default=json_default, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:  # invalid UTF-8 from the sender: keep it, replaced
        pass
    try:
        return orjson.dumps(valid_text(document), default=json_default)
    except (orjson.JSONEncodeError, RecursionError):
        return too_deep_document(document)


def too_deep_document(document: dict[str, Any]) -> bytes:
    """A record nested deeper than orjson encodes (254 levels) is kept degraded, as a mapping
    refusal is: core fields plus the whole record as text. Refusing it instead would leave its
    chunk unacked, and a sender waiting for the ack would send it again for ever."""
    metrics.DOCUMENTS_DEGRADED.inc()
    log.warning(
        "a record is nested deeper than %d levels; indexing it degraded",
        ORJSON_DEPTH,
        extra={"event": "pipeline.record_too_deep"},
    )
    reason = (
        f"the record is nested deeper than {ORJSON_DEPTH} levels; "
        "it is kept whole as text in event.original"
    )
    return orjson.dumps(degraded_document(document, reason, nested_json(document)))


def valid_text(value: Any) -> Any:
    """`value` with every string made valid UTF-8 (bad bytes become U+FFFD)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, dict):
        return {valid_text(str(key)): valid_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [valid_text(item) for item in value]
    return value


def whole_records(data: bytes, max_records: int) -> tuple[int, int]:
    """Bytes and count of the complete two-line records at the start of `data` (at most
    `max_records`). Newlines are counted and found in C: this runs on every bulk's bytes."""
    lines = data.count(b"\n")
    if lines // 2 <= max_records:
        if lines < 2:
            return 0, 0
        cut = data.rfind(b"\n") + 1
        if lines % 2:  # the last complete line is an action whose document has not come yet
            cut = data.rfind(b"\n", 0, cut - 1) + 1
        return cut, lines // 2
    return nth_newline(data, 2 * max_records, lines) + 1, max_records


def nth_newline(data: bytes, n: int, lines: int) -> int:
    """Index of the `n`-th newline of `data` (which holds `lines` >= n): jump to where the
    average line length puts it, then step line by line."""
    guess = len(data) * n // lines
    seen = data.count(b"\n", 0, guess)
    index = guess - 1
    for _ in range(n - seen):  # the n-th is after the guess
        index = data.find(b"\n", index + 1)
    if seen >= n:  # the n-th is before the guess: the last one before it is the seen-th
        index = guess
        for _ in range(seen - n + 1):
            index = data.rfind(b"\n", 0, index)
    return index
