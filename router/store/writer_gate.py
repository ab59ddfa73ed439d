"""The writer gate: SQLite's one writer slot, taken by webhook commits before the worker's."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriterGate:
    """SQLite has one writer, and webhooks must not wait behind the delivery worker.

    Writers queue here, which is far faster than SQLite's busy handler (it sleeps and polls).
    While a webhook commit waits, no new worker transaction starts, so an answer to Alertmanager
    waits for at most the one worker transaction already under way. Threads of one process queue
    on a lock; processes (the webhook's and the delivery worker's) on two `flock`s beside the
    database file: `.writer` is held while writing, `.urgent` while a webhook waits for `.writer`.
    """

    def __init__(self, database: Path | None) -> None:
        self._writer = threading.Lock()
        self._urgent = 0
        self._calm = threading.Condition()
        self._files: tuple[int, int] | None = None
        if database is not None:
            self._files = (
                os.open(f"{database}.writer", os.O_RDWR | os.O_CREAT, 0o600),
                os.open(f"{database}.urgent", os.O_RDWR | os.O_CREAT, 0o600),
            )

    @contextmanager
    def hold(self, urgent: bool) -> Iterator[None]:
        if urgent:
            with self._calm:
                self._urgent += 1
            try:
                self._writer.acquire()
            finally:
                with self._calm:
                    self._urgent -= 1
                    self._calm.notify_all()
        else:
            with self._calm:
                self._calm.wait_for(lambda: self._urgent == 0)
            self._writer.acquire()
        try:
            self._lock_files(urgent)
            try:
                yield
            finally:
                if self._files:
                    fcntl.flock(self._files[0], fcntl.LOCK_UN)
        finally:
            self._writer.release()

    def _lock_files(self, urgent: bool) -> None:
        if self._files is None:
            return
        writer, waiting = self._files
        if urgent:
            fcntl.flock(waiting, fcntl.LOCK_EX)  # tell other processes a webhook waits
            try:
                fcntl.flock(writer, fcntl.LOCK_EX)
            finally:
                fcntl.flock(waiting, fcntl.LOCK_UN)
        else:
            fcntl.flock(waiting, fcntl.LOCK_SH)  # returns once no webhook is waiting
            fcntl.flock(waiting, fcntl.LOCK_UN)
            fcntl.flock(writer, fcntl.LOCK_EX)
