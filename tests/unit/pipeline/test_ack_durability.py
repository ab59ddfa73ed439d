"""A forward ack never leaves before the records it confirms are fsynced: an ack is the
sender's licence to forget them (O4).

A SIGKILL test cannot see this: data written but not fsynced survives a killed process in the
page cache. So the fsync of the segment file is observed and held: while it has not returned,
no ack may reach the sender; once it returns, the ack comes and the fsync covered the chunk.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import msgpack
import pytest

from pipeline.buffer import DiskBuffer
from pipeline.forward_client import packed_forward
from pipeline.forward_server import ForwardReceiver

DEADLINE_SECONDS = 30.0


class HeldSegmentFsync:
    """Wraps `os.fsync`: an fsync of the segment file waits until `release` is set, then runs
    for real and records how many bytes the file held (what that fsync made durable)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started = threading.Event()
        self.release = threading.Event()
        self.durable_sizes: list[int] = []
        self.real_fsync = os.fsync

    def is_segment(self, fd: int) -> bool:
        status = os.fstat(fd)
        return any(
            os.path.samestat(status, segment.stat())
            for segment in self.directory.glob("segment-*.ndjson")
        )

    def __call__(self, fd: int) -> None:
        if not self.is_segment(fd):
            self.real_fsync(fd)
            return
        self.started.set()
        self.release.wait(DEADLINE_SECONDS)
        self.real_fsync(fd)
        self.durable_sizes.append(os.fstat(fd).st_size)


def test_forward_ack_waits_for_the_fsync_of_its_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = DiskBuffer(tmp_path, 1 << 20, 1 << 30)
    fsync = HeldSegmentFsync(tmp_path)
    monkeypatch.setattr(os, "fsync", fsync)

    async def scenario() -> tuple[object, int]:
        receiver = ForwardReceiver(buffer, 1 << 20)
        server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            records = [{"message": f"line {n}", "service.name": "a"} for n in range(50)]
            writer.write(packed_forward("a.log", records, "chunk-1"))
            await writer.drain()
            ack = asyncio.ensure_future(reader.read(100))
            loop = asyncio.get_running_loop()
            fsync_started = loop.run_in_executor(None, fsync.started.wait, DEADLINE_SECONDS)
            done, _ = await asyncio.wait(
                {ack, fsync_started}, timeout=DEADLINE_SECONDS, return_when="FIRST_COMPLETED"
            )
            assert ack not in done, "the ack left before the segment's fsync had returned"
            assert fsync_started in done, "the segment was not fsynced"
            assert fsync_started.result(), "the segment was not fsynced"
            written = buffer.end().offset  # the records are appended before their fsync
            fsync.release.set()
            answer = msgpack.unpackb(await asyncio.wait_for(ack, DEADLINE_SECONDS))
            return answer, written
        finally:
            fsync.release.set()
            writer.close()
            server.close()

    answer, written = asyncio.run(scenario())
    assert answer == {"ack": "chunk-1"}
    assert written > 0
    assert fsync.durable_sizes, "the segment's fsync never returned"
    assert fsync.durable_sizes[0] >= written
    buffer.close()
