"""The Fluentd forward transport: `fluent-logger`'s `FluentSender` extended to send whole
Forward-mode chunks and wait for the receiver's `ack` (the protocol's `chunk` option).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import cast

import msgpack
from fluent.sender import FluentSender


class AckTimeoutError(TimeoutError):
    """The receiver took a chunk but did not acknowledge it in time."""


class AckingForwardSender(FluentSender):  # type: ignore[misc]
    """`FluentSender` that sends whole Forward-mode chunks and waits for the receiver's ack."""

    def __init__(self, host: str, port: int, timeout: float, ack_timeout: float) -> None:
        super().__init__(tag="", host=host, port=port, timeout=timeout, bufmax=0)
        self.ack_timeout = ack_timeout

    def send_chunk(self, payload: bytes, chunk_id: str) -> None:
        """Deliver one packed Forward message; return only once it is acknowledged.

        Raises OSError (including timeouts) when it is not; the connection is then closed so
        the next attempt starts clean.
        """
        with self.lock:
            try:
                self._reconnect()
                self._check_recv_side()  # a receiver that restarted closed our old socket
                connection = cast(socket.socket, self.socket)
                connection.sendall(payload)
                self._await_ack(connection, chunk_id)
            except (OSError, ValueError, msgpack.UnpackException):
                self._close()
                raise

    def _await_ack(self, connection: socket.socket, chunk_id: str) -> None:
        unpacker = msgpack.Unpacker(raw=False)
        deadline = time.monotonic() + self.ack_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AckTimeoutError(f"no ack for chunk {chunk_id}")
            connection.settimeout(remaining)
            try:
                data = connection.recv(4096)
            finally:
                connection.settimeout(self.timeout)
            if not data:
                raise ConnectionResetError("the receiver closed the connection before acking")
            unpacker.feed(data)
            for answer in unpacker:
                if isinstance(answer, dict) and answer.get("ack") == chunk_id:
                    return

    def abort(self) -> None:
        """Interrupt a send or an ack wait in progress (at shutdown); never waits for the lock."""
        current = cast("socket.socket | None", getattr(self, "socket", None))
        if current is not None:
            with contextlib.suppress(OSError):
                current.shutdown(socket.SHUT_RDWR)

    def forget_inherited_socket(self) -> None:
        """In a forked child: drop the parent's connection without shutting it down."""
        inherited = cast("socket.socket | None", getattr(self, "socket", None))
        self.socket = None
        if inherited is not None:
            with contextlib.suppress(OSError):
                inherited.close()
        self.lock = threading.Lock()


def msgpack_array_header(count: int) -> bytes:
    """The msgpack header of an array of `count` items whose items are packed already."""
    if count < 16:
        return bytes((0x90 | count,))
    if count < 2**16:
        return b"\xdc" + count.to_bytes(2, "big")
    return b"\xdd" + count.to_bytes(4, "big")
