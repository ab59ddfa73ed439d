"""The disk buffer between receiving and indexing: append-only segment files of bulk lines.

Every record is written as two lines, the bulk action (with its `_id`) and the document, so the
writer sends file bytes as they are. A record's id is where it was first written
(`<generation>-<segment>-<offset>`): a retried bulk overwrites instead of duplicating, and two
identical lines stay two. A checkpoint file says how far Elasticsearch has confirmed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.bulk_lines import encode_document, whole_records
from pipeline.durable_files import fsync_directory, write_atomically

log = logging.getLogger("pipeline.buffer")
SEGMENT_NAME = re.compile(r"^segment-(\d{9})\.ndjson$")
CHECKPOINT_INTERVAL_SECONDS = 1.0


class BufferFull(Exception):
    """More unindexed bytes are on disk than the buffer may hold; the sender must wait."""


@dataclass(frozen=True, order=True)
class Position:
    """A place in the buffer: segment number, then byte offset inside it."""

    segment: int
    offset: int


@dataclass(frozen=True)
class Batch:
    """Consecutive whole records read for one bulk request."""

    start: Position
    end: Position
    data: bytes
    count: int


class DiskBuffer:
    """Segments `segment-NNNNNNNNN.ndjson` plus `checkpoint.json` and `generation` in one folder.

    Appends come from the event loop thread; one writer thread reads and commits. Sizes are
    published under a lock only after the bytes are written, so the reader never sees half a
    record.
    """

    def __init__(self, directory: Path, segment_max_bytes: int, max_bytes: int) -> None:
        self.directory = directory
        self.segment_max_bytes = segment_max_bytes
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._appended = threading.Condition(self._lock)
        self._sizes: dict[int, int] = {}
        self._fd = -1
        self._segment = 0
        self._retired_fds: list[int] = []
        self._synced = Position(0, 0)
        self._sync_lock: asyncio.Lock | None = None
        self._checkpoint = Position(1, 0)
        self._checkpoint_written_at = 0.0
        self._checkpoint_written = self._checkpoint
        self.generation = ""
        self._open()

    # --- opening and recovery ----------------------------------------------------------------
    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        generation_file = self.directory / "generation"
        if not generation_file.exists():
            write_atomically(generation_file, secrets.token_hex(4).encode())
        self.generation = generation_file.read_text().strip()
        checkpoint_file = self.directory / "checkpoint.json"
        if checkpoint_file.exists():
            saved = json.loads(checkpoint_file.read_text())
            self._checkpoint = Position(int(saved["segment"]), int(saved["offset"]))
        for path in self.directory.iterdir():
            match = SEGMENT_NAME.match(path.name)
            if match:
                number = int(match.group(1))
                if number < self._checkpoint.segment:
                    path.unlink()  # fully indexed before a crash that came before its deletion
                else:
                    self._sizes[number] = path.stat().st_size
        if self._sizes:
            last = max(self._sizes)
            self._sizes[last] = self._drop_torn_tail(last)
            self._segment = last
            self._fd = os.open(self._path(last), os.O_WRONLY | os.O_APPEND)
        else:
            self._start_segment(self._checkpoint.segment)
        self._synced = Position(self._segment, self._sizes[self._segment])

    def _drop_torn_tail(self, segment: int) -> int:
        """Cut a record that a crash left half written (records are exactly two lines)."""
        path = self._path(segment)
        data = path.read_bytes()
        end = 0
        newlines = 0
        index = data.find(b"\n")
        while index != -1:
            newlines += 1
            if newlines % 2 == 0:
                end = index + 1
            index = data.find(b"\n", index + 1)
        if end != len(data):
            with path.open("r+b") as file:
                file.truncate(end)
                os.fsync(file.fileno())
        return end

    def _path(self, segment: int) -> Path:
        return self.directory / f"segment-{segment:09d}.ndjson"

    def _start_segment(self, number: int) -> None:
        if self._fd >= 0:
            os.fsync(self._fd)  # the old segment is complete: make it durable before moving on
            self._retired_fds.append(self._fd)
        self._fd = os.open(self._path(number), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fsync_directory(self.directory)
        with self._lock:
            self._sizes[number] = 0
        self._segment = number

    # --- appending (event loop thread) ---------------------------------------------------------
    def pending_bytes(self) -> int:
        with self._lock:
            return self._pending_locked()

    def _pending_locked(self) -> int:
        cp = self._checkpoint
        return sum(size for n, size in self._sizes.items() if n >= cp.segment) - cp.offset

    def has_room(self) -> bool:
        return self.pending_bytes() < self.max_bytes

    def append(self, records: Iterable[tuple[str, dict[str, Any]]]) -> Position:
        """Write `(index, document)` records; return the end position to wait on for fsync.

        Raises BufferFull when the buffer is over its bound; the caller stops acking/reading.
        """
        if not self.has_room():
            raise BufferFull(f"{self.pending_bytes()} bytes wait for Elasticsearch")
        if self._sizes[self._segment] >= self.segment_max_bytes:
            self._start_segment(self._segment + 1)
        offset = self._sizes[self._segment]
        # One bytes template per index, filled with the offset: this runs once per record.
        actions: dict[str, bytes] = {}
        id_prefix = f"{self.generation}-{self._segment}-"
        parts: list[bytes] = []
        for index, document in records:
            action = actions.get(index)
            if action is None:
                name = index.replace("%", "%%")
                action = f'{{"index":{{"_index":"{name}","_id":"{id_prefix}%d"}}}}\n'.encode()
                actions[index] = action
            line = action % offset + encode_document(document) + b"\n"
            parts.append(line)
            offset += len(line)
        if parts:
            data = b"".join(parts)
            written = os.write(self._fd, data)
            while written < len(data):  # a short write to a regular file is rare but legal
                written += os.write(self._fd, data[written:])
            with self._lock:
                self._sizes[self._segment] = offset
                self._appended.notify_all()
        return Position(self._segment, offset)

    async def make_durable(self, upto: Position) -> None:
        """fsync until `upto` is on disk; callers arriving together share one fsync."""
        if self._sync_lock is None:
            self._sync_lock = asyncio.Lock()
        async with self._sync_lock:
            if self._synced >= upto:
                return
            target = Position(self._segment, self._sizes[self._segment])
            fd = self._fd
            await asyncio.get_running_loop().run_in_executor(None, os.fsync, fd)
            self._synced = max(self._synced, target)
            while self._retired_fds:
                os.close(self._retired_fds.pop())

    def end(self) -> Position:
        return Position(self._segment, self._sizes[self._segment])

    # --- reading and committing (writer thread) ------------------------------------------------
    def next_batch(
        self,
        max_bytes: int,
        max_records: int,
        wait_seconds: float,
        after: Position | None = None,
    ) -> Batch | None:
        """The next whole records after the checkpoint (or after `after`, a batch still in
        flight), or None if nothing came in time."""
        with self._lock:
            cp = self._advance_locked(after)
            if self._sizes.get(cp.segment, 0) <= cp.offset and wait_seconds > 0:
                self._appended.wait(wait_seconds)
                cp = self._advance_locked(after)
            available = self._sizes.get(cp.segment, 0) - cp.offset
        if available <= 0:
            return None
        with self._path(cp.segment).open("rb") as file:
            file.seek(cp.offset)
            data = file.read(min(available, max_bytes))
            cut, count = whole_records(data, max_records)
            while count == 0 and len(data) < available:  # one record larger than max_bytes
                data += file.read(min(available - len(data), max_bytes))
                cut, count = whole_records(data, max_records)
        return Batch(cp, Position(cp.segment, cp.offset + cut), data[:cut], count)

    def _advance_locked(self, after: Position | None = None) -> Position:
        cp = max(self._checkpoint, after) if after else self._checkpoint
        while cp.segment < self._segment and self._sizes.get(cp.segment, 0) <= cp.offset:
            cp = Position(cp.segment + 1, 0)
        return cp

    def commit(self, batch: Batch, save: bool = True) -> None:
        """Elasticsearch has every record of `batch`: move the checkpoint on.

        The checkpoint file is written at most once per CHECKPOINT_INTERVAL_SECONDS (three
        fsyncs each time would slow every bulk): after a crash the records since the last write
        are sent again, with the same ids, so they overwrite themselves. With `save=False` the
        caller saves it later (the writer first hands Elasticsearch its next bulk).
        """
        with self._lock:
            self._checkpoint = batch.end
        if save:
            self.save_checkpoint_if_due()

    def save_checkpoint_if_due(self) -> None:
        if self._checkpoint == self._checkpoint_written:
            return
        if time.monotonic() - self._checkpoint_written_at >= CHECKPOINT_INTERVAL_SECONDS:
            self.save_checkpoint()

    def save_checkpoint(self) -> None:
        """Persist the checkpoint, then delete the segments it has left behind."""
        with self._lock:
            checkpoint = self._checkpoint
        write_atomically(
            self.directory / "checkpoint.json",
            json.dumps({"segment": checkpoint.segment, "offset": checkpoint.offset}).encode(),
        )
        self._checkpoint_written_at = time.monotonic()
        self._checkpoint_written = checkpoint
        with self._lock:
            finished = [n for n in self._sizes if n < checkpoint.segment]
            for number in finished:
                del self._sizes[number]
        for number in finished:
            self._path(number).unlink(missing_ok=True)

    def close(self) -> None:
        self.save_checkpoint()
        if self._fd >= 0:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1
        for fd in self._retired_fds:
            os.close(fd)
        self._retired_fds.clear()
