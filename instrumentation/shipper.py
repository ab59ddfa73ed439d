"""Ships log records over the Fluentd forward protocol without ever blocking the caller.

`fluent-logger`'s own senders are not enough here: `FluentSender` keeps unsent bytes only until
`bufmax` and then hands them to an overflow handler, it cannot know whether a receiver that died
had read what it was sent (no acks), and `asyncsender` blocks the caller when its queue is full.
So the transport is `fluent-logger`'s `FluentSender` (connection handling, `EventTime`), extended
with Forward-mode chunks and the protocol's `chunk`/`ack` option (`forward_sender.py`); in front
of it sits a bounded in-memory buffer drained by one background thread:

* `submit()` only packs the record and appends it under a short lock: O(1), never waits for I/O.
* The thread sends up to `log_batch_records` records as one chunk (a smaller one after waiting
  `log_linger_seconds` for more) and removes them from the
  buffer only when the receiver acks that chunk; otherwise it reconnects with capped backoff and
  resends (at-least-once: a lost ack can mean one duplicate chunk, never a lost one).
* When the buffer is full (records or bytes), new records are dropped and every one is counted
  in `log_records_dropped_total{reason="buffer_full"}`; so are records too large to ship.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import os
import sys
import threading
import time
import uuid
import weakref
from collections import deque
from typing import Any

import msgpack
from fluent.sender import EventTime

from instrumentation import metrics
from instrumentation.forward_sender import AckingForwardSender, msgpack_array_header
from instrumentation.settings import TelemetrySettings

_BACKOFF_START_SECONDS = 0.05


class ForwardShipper:
    """A bounded buffer of packed records and the thread that ships it (see module doc)."""

    def __init__(self, settings: TelemetrySettings, tag: str) -> None:
        self.settings = settings
        self.tag = tag
        self._tag_packed = msgpack.packb(tag)
        self._closing = False
        self._reset_state()
        _live_shippers.add(self)

    def _reset_state(self) -> None:
        """Fresh buffer, lock and (lazily started) thread: at creation and in a forked child."""
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._entries: deque[bytes] = deque()
        self._buffered_bytes = 0
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._wake = threading.Event()
        self._connected = True  # assume yes until proven otherwise; only transitions are reported
        self._sender = AckingForwardSender(
            self.settings.fluent_host,
            self.settings.fluent_port,
            timeout=min(self.settings.log_ack_timeout_seconds, 3.0),
            ack_timeout=self.settings.log_ack_timeout_seconds,
        )

    # --- the caller's side: never blocks on I/O ---------------------------------------------

    def submit(self, record: dict[str, Any], created: float | None = None) -> bool:
        """Queue one record; False (and counted) when it cannot be kept."""
        if self._closing:
            metrics.LOG_RECORDS_DROPPED.labels(reason="shutdown").inc()
            return False
        moment = time.time() if created is None else created
        try:
            entry = msgpack.packb([EventTime(moment), record], default=str)
        except (TypeError, ValueError, OverflowError):
            metrics.LOG_RECORDS_DROPPED.labels(reason="unserializable").inc()
            return False
        if len(entry) > self.settings.log_record_max_bytes:
            metrics.LOG_RECORDS_DROPPED.labels(reason="too_large").inc()
            return False
        if self._pid != os.getpid():
            self._reset_state()
        if self._thread is None:
            self._start_thread()
        with self._lock:
            if (
                len(self._entries) >= self.settings.log_buffer_records
                or self._buffered_bytes + len(entry) > self.settings.log_buffer_bytes
            ):
                full = True
            else:
                full = False
                self._entries.append(entry)
                self._buffered_bytes += len(entry)
                # Woken for a first record or a full chunk, not for every record: a wake-up per
                # log line cost the request threads ~5 % of a booking worker's CPU.
                held = len(self._entries)
                if held == 1 or held == self.settings.log_batch_records:
                    self._ready.notify()
        if full:
            metrics.LOG_RECORDS_DROPPED.labels(reason="buffer_full").inc()
            return False
        return True

    @property
    def buffered(self) -> int:
        return len(self._entries)

    # --- the shipping thread ---------------------------------------------------------------

    def _start_thread(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name=f"log-shipper-{self.tag}", daemon=True
            )
            self._thread.start()

    def _next_batch(self) -> list[bytes] | None:
        """Up to one chunk's worth of the oldest records (left in the buffer until acked)."""
        with self._ready:
            while not self._entries:
                if self._closing:
                    return None
                self._ready.wait(0.5)
            # A chunk of a few records costs this thread and the receiver about what a full one
            # does: more records get `log_linger_seconds` to join it.
            until = time.monotonic() + self.settings.log_linger_seconds
            while len(self._entries) < self.settings.log_batch_records and not self._closing:
                left = until - time.monotonic()
                if left <= 0:
                    break
                self._ready.wait(left)
            batch: list[bytes] = []
            size = 0
            for entry in self._entries:
                if batch and (
                    len(batch) >= self.settings.log_batch_records
                    or size + len(entry) > self.settings.log_batch_bytes
                ):
                    break
                batch.append(entry)
                size += len(entry)
            return batch

    def _run(self) -> None:
        backoff = _BACKOFF_START_SECONDS
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            chunk_id = base64.b64encode(uuid.uuid4().bytes).decode()
            payload = b"".join(
                (
                    b"\x93",  # [tag, entries, options]
                    self._tag_packed,
                    msgpack_array_header(len(batch)),
                    *batch,
                    msgpack.packb({"chunk": chunk_id, "size": len(batch)}),
                )
            )
            try:
                self._sender.send_chunk(payload, chunk_id)
            except OSError as error:
                metrics.LOG_SHIPPING_ERRORS.inc()
                metrics.LOG_RECORDS_BUFFERED.set(len(self._entries))
                self._report(connected=False, detail=str(error) or type(error).__name__)
                if self._wake.wait(backoff) and self._closing:
                    self._wake.clear()
                backoff = min(backoff * 2, self.settings.log_retry_max_seconds)
                if self._closing and time.monotonic() > self._close_deadline:
                    self._drop_all("shutdown")
                    return
                continue
            backoff = _BACKOFF_START_SECONDS
            with self._lock:
                for _ in batch:
                    self._buffered_bytes -= len(self._entries.popleft())
                left = len(self._entries)
            metrics.LOG_RECORDS_SHIPPED.inc(len(batch))
            metrics.LOG_RECORDS_BUFFERED.set(left)
            self._report(connected=True, detail=f"{left} records still buffered")

    def _drop_all(self, reason: str) -> None:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            self._buffered_bytes = 0
        if count:
            metrics.LOG_RECORDS_DROPPED.labels(reason=reason).inc(count)
        metrics.LOG_RECORDS_BUFFERED.set(0)

    def _report(self, connected: bool, detail: str) -> None:
        """One stderr line per state change: never through logging (that would feed itself)."""
        if connected == self._connected:
            return
        self._connected = connected
        where = f"{self.settings.fluent_host}:{self.settings.fluent_port}"
        if connected:
            message = f"log shipping to {where} resumed ({detail})"
        else:
            message = f"log receiver {where} unreachable, buffering records ({detail})"
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"instrumentation: {message}\n")

    # --- lifecycle -------------------------------------------------------------------------

    def flush(self, timeout: float) -> bool:
        """Wait until everything buffered is acked (True) or the time is up (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._entries:
                return True
            time.sleep(0.01)
        return not self._entries

    def close(self, timeout: float | None = None) -> None:
        """Ship what is left for up to `timeout` seconds, then count the rest as dropped."""
        timeout = self.settings.log_flush_on_exit_seconds if timeout is None else timeout
        if self._closing:
            return
        self._close_deadline = time.monotonic() + timeout
        self._closing = True
        self._wake.set()
        with self._ready:
            self._ready.notify_all()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout)
            if thread.is_alive():  # stuck on a receiver that neither acks nor closes
                self._sender.abort()
                thread.join(1.0)
        self._drop_all("shutdown")
        if not (thread is not None and thread.is_alive()):
            self._sender.close()
        _live_shippers.discard(self)

    def _after_fork_in_child(self) -> None:
        self._sender.forget_inherited_socket()
        self._reset_state()

    _close_deadline = 0.0


_live_shippers: weakref.WeakSet[ForwardShipper] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for shipper in list(_live_shippers):
        shipper._after_fork_in_child()


def _close_all_at_exit() -> None:
    for shipper in list(_live_shippers):
        shipper.close()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(_close_all_at_exit)
