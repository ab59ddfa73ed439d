"""Forward protocol v1: every mode, both time kinds, and the shapes that must be refused."""

from __future__ import annotations

import gzip
import struct

import msgpack
import pytest

from pipeline.forward_client import event_time, packed_forward
from pipeline.forward_protocol import MalformedMessage, decode_message, new_unpacker

LIMIT = 1024 * 1024


def decode(raw: bytes) -> object:
    unpacker = new_unpacker(LIMIT)
    unpacker.feed(raw)
    return decode_message(next(unpacker), LIMIT)


def test_message_mode_with_integer_time() -> None:
    message = decode(msgpack.packb(["app.web", 1700000000, {"message": "hi"}]))
    assert message.tag == "app.web"
    assert message.entries == [(1700000000, 0, {"message": "hi"})]
    assert message.chunk is None


def test_message_mode_with_event_time_and_chunk() -> None:
    time = msgpack.ExtType(0, struct.pack(">II", 1700000000, 123456789))
    message = decode(msgpack.packb(["t", time, {"a": 1}, {"chunk": "abc"}]))
    assert message.entries[0][:2] == (1700000000, 123456789)
    assert message.chunk == "abc"


def test_forward_mode_carries_many_entries() -> None:
    raw = msgpack.packb(["t", [[1, {"n": 1}], [event_time(2.5), {"n": 2}]], {"size": 2}])
    message = decode(raw)
    assert [record["n"] for _, _, record in message.entries] == [1, 2]
    assert message.entries[1][:2] == (2, 500_000_000)


@pytest.mark.parametrize("compress", [False, True])
def test_packed_forward_plain_and_gzipped(compress: bool) -> None:
    records = [{"n": n} for n in range(5)]
    message = decode(packed_forward("t", records, "c1", compress=compress))
    assert [record for _, _, record in message.entries] == records
    assert message.chunk == "c1"


def test_compressed_packed_forward_accepts_concatenated_gzip_members() -> None:
    first = msgpack.packb([1, {"n": 1}])
    second = msgpack.packb([2, {"n": 2}])
    blob = gzip.compress(first) + gzip.compress(second)
    message = decode(msgpack.packb(["t", blob, {"compressed": "gzip"}], use_bin_type=True))
    assert [record["n"] for _, _, record in message.entries] == [1, 2]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"not": "an array"}, "array"),
        ([1, 2, {}], "tag"),
        (["t", "not-a-time", {}], "time"),
        (["t", 2**60, {}], "time"),
        (["t", 1, "not-a-map"], "record"),
        (["t", [[1]]], "entry"),
        (["t", 1, {}, "not-a-map-option"], "option"),
        (["t", [[1, {}]], {"size": 3}], "size"),
        (["t", b"\x00\x01garbage", {"compressed": "gzip"}], "gzip"),
        (["t"], "array"),
    ],
)
def test_wrong_shapes_are_refused_with_a_reason(message: object, reason: str) -> None:
    with pytest.raises(MalformedMessage, match=reason):
        decode(msgpack.packb(message, use_bin_type=True))


def test_gzip_bomb_is_refused() -> None:
    blob = gzip.compress(b"\0" * (LIMIT * 4))
    with pytest.raises(MalformedMessage, match="expands beyond"):
        decode(msgpack.packb(["t", blob, {"compressed": "gzip"}], use_bin_type=True))


def test_a_frame_over_the_limit_fills_the_unpacker() -> None:
    unpacker = new_unpacker(LIMIT)
    with pytest.raises(msgpack.BufferFull):
        unpacker.feed(b"\xc6" + struct.pack(">I", LIMIT * 10) + b"\0" * (LIMIT + 10))
