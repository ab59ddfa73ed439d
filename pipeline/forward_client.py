"""A small forward-protocol client: CompressedPackedForward with chunk acks.

Used by the tests and the benchmark to drive the receiver the way Fluentd and Fluent Bit
forward outputs do (`require_ack_response`), which `fluent-logger` cannot (it never asks for acks).
"""

from __future__ import annotations

import base64
import gzip
import os
import socket
import struct
import time
from collections.abc import Iterable
from typing import Any

import msgpack


class AckMissing(Exception):
    """The receiver closed the connection or answered something other than our chunk's ack."""


def event_time(seconds: float) -> msgpack.ExtType:
    whole = int(seconds)
    return msgpack.ExtType(0, struct.pack(">II", whole, int((seconds - whole) * 1e9)))


def packed_forward(
    tag: str, records: Iterable[dict[str, Any]], chunk: str, compress: bool = True
) -> bytes:
    """One `[tag, entries, {chunk, size, compressed}]` message (EventTime stamps)."""
    stamp = event_time(time.time())
    packer = msgpack.Packer(autoreset=False)  # one buffer for the whole chunk
    size = 0
    for record in records:
        packer.pack([stamp, record])
        size += 1
    blob = packer.bytes()
    option: dict[str, Any] = {"chunk": chunk, "size": size}
    if compress:
        blob = gzip.compress(blob, compresslevel=1)
        option["compressed"] = "gzip"
    packed: bytes = msgpack.packb([tag, blob, option], use_bin_type=True)
    return packed


def new_chunk_id() -> str:
    return base64.b64encode(os.urandom(16)).decode()


class ForwardClient:
    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.unpacker = msgpack.Unpacker(raw=False)

    def send(self, tag: str, records: list[dict[str, Any]], compress: bool = True) -> None:
        """Send one chunk and wait for its ack: on return the records are on the receiver's disk."""
        chunk = new_chunk_id()
        self.sock.sendall(packed_forward(tag, records, chunk, compress))
        self.wait_ack(chunk)

    def wait_ack(self, chunk: str) -> None:
        while True:
            for answer in self.unpacker:
                if isinstance(answer, dict) and answer.get("ack") == chunk:
                    return
                raise AckMissing(f"expected ack {chunk}, got {answer!r}")
            data = self.sock.recv(65536)
            if not data:
                raise AckMissing("the receiver closed the connection before acking")
            self.unpacker.feed(data)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> ForwardClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
