"""Fluentd Forward Protocol v1 messages, decoded into entries with their options.

Modes: Message `[tag, time, record, option?]`, Forward `[tag, [[time, record], ...], option?]`,
PackedForward `[tag, bin, option?]` (concatenated msgpack entries) and CompressedPackedForward
(the same bin gzipped, `option.compressed == "gzip"`). Time is an integer, a float, or EventTime
(msgpack ext type 0: big-endian uint32 seconds and uint32 nanoseconds).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgpack

EVENT_TIME_EXT = 0
MAX_TIME = 2**32  # EventTime's seconds are a uint32; an integer time beyond is not a time
EVENT_TIME = struct.Struct(">II")

# An EventTime decodes to a plain `(seconds, nanoseconds)` tuple: msgpack arrays decode to
# lists, so a tuple can only be an EventTime, and a tuple costs less than an object per record.
# An entry is `(seconds, nanoseconds, record)`, a plain tuple for the same reason.
Entry = tuple[int, int, dict[str, Any]]


class MalformedMessage(Exception):
    """Input that is not a forward-protocol message; the connection that sent it is closed."""


@dataclass
class Message:
    tag: str
    entries: list[Entry]
    option: dict[str, Any] = field(default_factory=dict)

    @property
    def chunk(self) -> str | None:
        chunk = self.option.get("chunk")
        return chunk if isinstance(chunk, str) and chunk else None


def ext_hook(code: int, data: bytes) -> object:
    """EventTime (ext type 0) becomes `(seconds, nanoseconds)`; other ext types stay as they are.

    msgpack calls this once per record, so it does as little as it can.
    """
    if code == EVENT_TIME_EXT and len(data) == 8:
        return EVENT_TIME.unpack(data)
    return msgpack.ExtType(code, data)


def new_unpacker(max_frame_bytes: int) -> msgpack.Unpacker:
    """A streaming unpacker that refuses any single message larger than `max_frame_bytes`."""
    return msgpack.Unpacker(
        raw=False,
        max_buffer_size=max_frame_bytes,
        ext_hook=ext_hook,
        strict_map_key=False,
        unicode_errors="surrogateescape",  # a str-typed packed blob round-trips
    )


def decode_message(message: object, max_frame_bytes: int) -> Message:
    """Check a message's shape and return its entries; raise MalformedMessage with the reason."""
    if not isinstance(message, list | tuple) or not 2 <= len(message) <= 4:
        raise MalformedMessage(f"expected an array of 2 to 4 items, got {describe(message)}")
    tag = message[0]
    if not isinstance(tag, str):
        raise MalformedMessage(f"the tag must be a string, got {describe(tag)}")
    second = message[1]
    if isinstance(second, list):  # Forward mode (a tuple here is an EventTime: Message mode)
        option = option_of(message, 2)
        entries = entries_of(second)
    elif isinstance(second, bytes | str):  # PackedForward / CompressedPackedForward
        option = option_of(message, 2)
        packed = second.encode("utf-8", "surrogateescape") if isinstance(second, str) else second
        if option.get("compressed") == "gzip":
            packed = gunzip(packed, max_frame_bytes)
        elif option.get("compressed") not in (None, "text"):
            raise MalformedMessage(f"unknown compression {option.get('compressed')!r}")
        entries = unpack_entries(packed, max_frame_bytes)
    else:  # Message mode
        if len(message) < 3:
            raise MalformedMessage("a Message-mode message needs a tag, a time and a record")
        option = option_of(message, 3)
        entries = [entry_of((second, message[2]))]
    size = option.get("size")
    if isinstance(size, int) and size != len(entries):
        raise MalformedMessage(f"option size says {size} entries but {len(entries)} came")
    return Message(tag, entries, option)


def option_of(message: list[Any] | tuple[Any, ...], position: int) -> dict[str, Any]:
    if len(message) <= position or message[position] is None:
        return {}
    option = message[position]
    if not isinstance(option, dict):
        raise MalformedMessage(f"the option must be a map, got {describe(option)}")
    if len(message) > position + 1:
        raise MalformedMessage("extra items after the option")
    return option


def entries_of(items: Iterable[object]) -> list[Entry]:
    """Every item checked and made an entry; the common `[EventTime, map]` shape inline, since
    this runs once per record and a function call per record is a visible share of the CPU."""
    entries: list[Entry] = []
    append = entries.append
    for item in items:
        if type(item) is list and len(item) == 2:
            time, record = item
            if type(time) is tuple and type(record) is dict:
                append((time[0], time[1], record))
                continue
        append(entry_of(item))
    return entries


def entry_of(item: object) -> Entry:
    if not isinstance(item, list | tuple) or len(item) != 2:
        raise MalformedMessage(f"an entry must be [time, record], got {describe(item)}")
    time, record = item
    if not isinstance(record, dict):
        raise MalformedMessage(f"a record must be a map, got {describe(record)}")
    if type(time) is tuple:  # EventTime, from ext_hook
        return (time[0], time[1], record)
    if isinstance(time, bool) or not isinstance(time, int | float) or not 0 <= time < MAX_TIME:
        raise MalformedMessage(f"a time must be an integer or EventTime, got {describe(time)}")
    seconds = int(time)
    return (seconds, round((time - seconds) * 1e9), record)


def unpack_entries(packed: bytes, max_frame_bytes: int) -> list[Entry]:
    unpacker = new_unpacker(max(max_frame_bytes, len(packed)))
    unpacker.feed(packed)
    try:
        return entries_of(unpacker)
    except (ValueError, msgpack.UnpackException) as error:
        raise MalformedMessage(f"packed entries are not valid msgpack: {error}") from error


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """Decompress (possibly several concatenated) gzip members, refusing more than `max_bytes`."""
    out: list[bytes] = []
    total = 0
    while data:
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        try:
            chunk = inflater.decompress(data, max_bytes - total + 1)
        except zlib.error as error:
            raise MalformedMessage(f"the gzip data is corrupt: {error}") from error
        total += len(chunk)
        if total > max_bytes or inflater.unconsumed_tail:
            raise MalformedMessage(f"gzip data expands beyond {max_bytes} bytes")
        if not inflater.eof:
            raise MalformedMessage("the gzip data is truncated")
        out.append(chunk)
        data = inflater.unused_data
    return b"".join(out)


def describe(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"
