"""The forward-protocol receiver: TCP for messages, UDP for Fluentd's heartbeat.

Each read's complete messages go to the disk buffer in one append; messages with a `chunk`
option are answered `{"ack": chunk}` only after an fsync covers them. Bad input closes only the
connection that sent it, with the reason logged. While the buffer is full the connection is not
read, so TCP itself holds the sender back and nothing is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

import msgpack

from pipeline import metrics
from pipeline.buffer import DiskBuffer
from pipeline.documents import log_documents
from pipeline.forward_protocol import MalformedMessage, decode_message, new_unpacker

log = logging.getLogger("pipeline.forward")
READ_BYTES = 256 * 1024
FULL_BUFFER_POLL_SECONDS = 0.05


class ForwardReceiver:
    def __init__(self, buffer: DiskBuffer, max_frame_bytes: int) -> None:
        self.buffer = buffer
        self.max_frame_bytes = max_frame_bytes

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        unpacker = new_unpacker(self.max_frame_bytes)
        try:
            while data := await reader.read(READ_BYTES):
                try:
                    unpacker.feed(data)
                except msgpack.BufferFull:
                    self.close_for("oversized", f"a message is over {self.max_frame_bytes} bytes")
                    return
                records: list[tuple[str, dict[str, Any]]] = []
                chunks: list[str] = []
                acked_records = 0
                problem = None
                try:
                    for message in unpacker:
                        decoded = decode_message(message, self.max_frame_bytes)
                        records += log_documents(decoded.tag, decoded.entries)
                        if decoded.chunk:
                            chunks.append(decoded.chunk)
                            acked_records += len(decoded.entries)
                except MalformedMessage as error:
                    problem = ("malformed", f"{peer}: {error}")
                except (ValueError, msgpack.UnpackException) as error:
                    problem = ("not_msgpack", f"{peer}: not msgpack ({error})")
                # What came before a bad message in the same read is kept (and acked).
                await self.accept(records, chunks, acked_records, writer)
                if problem:
                    self.close_for(*problem)
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:  # one connection's surprise must not reach the others
            metrics.CONNECTIONS_CLOSED.labels(reason="internal").inc()
            log.exception(
                "closing forward connection %s after an unexpected error",
                peer,
                extra={"event": "pipeline.forward_connection_failed"},
            )
        finally:
            writer.close()

    async def accept(
        self,
        records: list[tuple[str, dict[str, Any]]],
        chunks: list[str],
        acked_records: int,
        writer: asyncio.StreamWriter,
    ) -> None:
        if not records and not chunks:
            return
        while not self.buffer.has_room():
            metrics.BACKPRESSURE.set(1)
            await asyncio.sleep(FULL_BUFFER_POLL_SECONDS)
        metrics.BACKPRESSURE.set(0)
        end = self.buffer.append(records)
        metrics.RECORDS_RECEIVED.labels(source="forward").inc(len(records))
        if chunks:
            await self.buffer.make_durable(end)
            metrics.RECORDS_ACKED.labels(source="forward").inc(acked_records)
            writer.write(b"".join(msgpack.packb({"ack": chunk}) for chunk in chunks))
            await writer.drain()

    @staticmethod
    def close_for(reason: str, detail: str) -> None:
        metrics.CONNECTIONS_CLOSED.labels(reason=reason).inc()
        log.warning(
            "closing forward connection (%s): %s",
            reason,
            detail,
            extra={"event": "pipeline.forward_connection_refused"},
        )


class HeartbeatProtocol(asyncio.DatagramProtocol):
    """Fluentd's UDP heartbeat: any datagram on the forward port is answered with one byte."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.transport.sendto(b"\0", addr)
