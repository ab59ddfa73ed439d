"""The writer thread: buffer bytes to Elasticsearch bulk requests, retried until confirmed.

The buffer's lines already are bulk lines with their ids, so a batch is sent as read. A batch is
committed only when every record in it is indexed (or, refused twice, dead-lettered and counted),
so a crash or an Elasticsearch outage at any moment means a resend with the same ids.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import httpx
import orjson

from pipeline import metrics
from pipeline.buffer import Batch, DiskBuffer
from pipeline.documents import degraded_document
from pipeline.indices import install_templates, sweep_retention
from pipeline.settings import PipelineSettings

log = logging.getLogger("pipeline.writer")
RETRYABLE_ITEM_STATUSES = {429, 500, 502, 503, 504}
BULK_PATH = "/_bulk?filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason"
# Elasticsearch writes `errors` before `items`: a response starting so needs no parsing.
ALL_INDEXED = b'{"errors":false'


def running(in_flight: deque[tuple[Batch, Future[None]]]) -> int:
    return sum(not future.done() for _, future in in_flight)


class ElasticsearchWriter(threading.Thread):
    def __init__(self, settings: PipelineSettings, buffer: DiskBuffer) -> None:
        super().__init__(name="elasticsearch-writer", daemon=True)
        self.settings = settings
        self.buffer = buffer
        self.stopping = threading.Event()
        self.client = httpx.Client(
            base_url=settings.elasticsearch_url,
            timeout=settings.request_timeout_seconds,
            headers={"Content-Type": "application/x-ndjson"},
        )
        self.dead_letters = settings.buffer_dir / "dead-letters.ndjson"
        self._next_sweep = 0.0
        self._small_since: float | None = None  # when a batch too small to send was first seen
        self._burst = False  # the last batch read was a substantial one
        self.templates_ready = False

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Keep `bulk_concurrency` bulks in flight; commit them strictly in order.

        A slot is refilled as soon as any bulk comes back, not only the oldest (as direct bulk
        clients do), while commits still go in buffer order; at most twice as many bulks as
        slots wait uncommitted. The next bulk is read ahead while bulks are in flight and the
        checkpoint is saved only after the next bulk went out: Elasticsearch is never left
        with a request slot idle while this thread reads files or fsyncs.
        """
        backoff = self.settings.retry_initial_seconds
        slots = self.settings.bulk_concurrency
        in_flight: deque[tuple[Batch, Future[None]]] = deque()  # in buffer order, uncommitted
        ahead: Batch | None = None
        with ThreadPoolExecutor(slots, "bulk") as pool:
            while not self.stopping.is_set():
                try:
                    self.housekeeping()
                    while running(in_flight) < slots and len(in_flight) < 2 * slots:
                        batch, ahead = ahead or self.next_batch(in_flight), None
                        if batch is None:
                            break
                        in_flight.append((batch, pool.submit(self.index, batch)))
                    self.buffer.save_checkpoint_if_due()
                    metrics.BUFFER_BYTES.set(self.buffer.pending_bytes())
                    if not in_flight:
                        continue
                    if ahead is None:
                        ahead = self.full_batch_ahead(in_flight)
                    wait([f for _, f in in_flight if not f.done()], return_when=FIRST_COMPLETED)
                    for _, done in in_flight:
                        if done.done() and done.exception() is not None:
                            done.result()  # raises: everything is resent from the checkpoint
                    while in_flight and in_flight[0][1].done():
                        self.buffer.commit(in_flight.popleft()[0], save=False)
                    backoff = self.settings.retry_initial_seconds
                except Exception as error:  # the thread must outlive any surprise
                    # Everything in flight is sent again from the checkpoint (same ids).
                    wait(f for _, f in in_flight)
                    in_flight.clear()
                    ahead = None
                    self.failed(error, backoff)
                    backoff = min(backoff * 2, self.settings.retry_max_seconds)
        self.client.close()

    def next_batch(self, in_flight: deque[tuple[Batch, Future[None]]]) -> Batch | None:
        """The records after those in flight; waits a little for some only when idle.

        A trickle is gathered (Fluentd's flush_interval): a bulk of less than an eighth of a
        full one is held back until `flush_interval_seconds` after the writer first saw it, so
        that more records join it; at a few hundred log lines a second it was one bulk per
        line or two, each costing Elasticsearch a request, a translog fsync and new segments.
        Anything larger goes at once, so a fast stream is never slowed down by the interval, and
        so does the small rest that ends a burst (only small after small is a trickle).
        """
        batch = self._read(in_flight, 0 if in_flight else 0.5)
        linger = self.settings.flush_interval_seconds
        burst, self._burst = self._burst, batch is not None and self.substantial(batch)
        if batch is None or linger <= 0 or self._burst or burst:
            self._small_since = None
            return batch
        now = time.monotonic()
        if self._small_since is None:
            self._small_since = now
        wait = self._small_since + linger - now
        if wait > 0:
            if in_flight:  # the bulks out come back first; it is looked at again then
                return None
            self.stopping.wait(wait)
            batch = self._read(in_flight, 0)
        self._small_since = None
        return batch

    def _read(self, in_flight: deque[tuple[Batch, Future[None]]], wait: float) -> Batch | None:
        return self.buffer.next_batch(
            self.settings.bulk_max_bytes,
            self.settings.bulk_max_documents,
            wait,
            after=in_flight[-1][0].end if in_flight else None,
        )

    def full(self, batch: Batch) -> bool:
        """As large as a bulk gets (by count, or half the byte bound: the next record may not
        fit)."""
        return (
            batch.count >= self.settings.bulk_max_documents
            or len(batch.data) * 2 >= self.settings.bulk_max_bytes
        )

    def substantial(self, batch: Batch) -> bool:
        """Worth a bulk request of its own now, without waiting for more records."""
        return (
            batch.count * 8 >= self.settings.bulk_max_documents
            or len(batch.data) * 8 >= self.settings.bulk_max_bytes
        )

    def full_batch_ahead(self, in_flight: deque[tuple[Batch, Future[None]]]) -> Batch | None:
        """The next bulk, read now, if it is already as large as a bulk gets; a smaller one is
        read again when it is its turn, when more records may have come."""
        batch = self._read(in_flight, 0)
        return batch if batch is not None and self.full(batch) else None

    def failed(self, error: Exception, backoff: float) -> None:
        if isinstance(error, httpx.HTTPError):
            metrics.ELASTICSEARCH_UP.set(0)
            metrics.BULK_RETRIES.labels(reason=type(error).__name__).inc()
            log.warning(
                "Elasticsearch unavailable (%s); retrying in %.1f s",
                error,
                backoff,
                extra={"event": "pipeline.elasticsearch_unavailable"},
            )
            self.templates_ready = False  # a cluster that comes back may be a fresh one
        else:
            metrics.BULK_RETRIES.labels(reason="unexpected").inc()
            log.exception(
                "unexpected error in the writer; retrying in %.1f s",
                backoff,
                extra={"event": "pipeline.writer_failed"},
            )
        self.stopping.wait(backoff)

    def housekeeping(self) -> None:
        """Templates before the first document; the retention sweep now and then."""
        if not self.templates_ready:
            ilm = install_templates(self.client, self.settings.retention_days)
            self.templates_ready = True
            log.info(
                "index templates installed (ILM policy %s)",
                "applied" if ilm else "absent",
                extra={"event": "pipeline.templates_installed"},
            )
        if time.monotonic() >= self._next_sweep:
            deleted = sweep_retention(self.client, self.settings.retention_days)
            metrics.INDICES_DELETED.inc(len(deleted))
            if deleted:
                log.info(
                    "retention sweep deleted %d indices: %s",
                    len(deleted),
                    deleted,
                    extra={"event": "pipeline.indices_retired"},
                )
            self._next_sweep = time.monotonic() + self.settings.sweep_interval_seconds

    def index(self, batch: Batch) -> None:
        """Send `batch` until every record is indexed or dead-lettered; HTTP errors propagate."""
        body = batch.data
        pending = batch.count
        backoff = self.settings.retry_initial_seconds
        while pending:
            result = self.send_bulk(body)
            if not result.get("errors"):
                self.indexed(pending)
                return
            body, succeeded, finished = self.retry_body(body, result["items"])
            self.indexed(succeeded)
            pending -= finished
            if pending:
                metrics.BULK_RETRIES.labels(reason="item").inc()
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, self.settings.retry_max_seconds)

    def send_bulk(self, body: bytes) -> dict[str, Any]:
        metrics.BULK_REQUESTS.inc()
        response = self.client.post(BULK_PATH, content=body)
        if response.status_code in RETRYABLE_ITEM_STATUSES:
            raise httpx.HTTPStatusError(
                f"bulk answered {response.status_code}", request=response.request, response=response
            )
        response.raise_for_status()
        metrics.ELASTICSEARCH_UP.set(1)
        if response.content.startswith(ALL_INDEXED):
            return {"errors": False}  # the items are only needed when some failed
        result: dict[str, Any] = orjson.loads(response.content)
        return result

    def indexed(self, count: int) -> None:
        metrics.DOCUMENTS_INDEXED.inc(count)
        metrics.LAST_INDEXED.set(time.time())

    def retry_body(self, body: bytes, items: list[dict[str, Any]]) -> tuple[bytes, int, int]:
        """The records to send again (refused ones degraded), how many succeeded, are done."""
        lines = body.split(b"\n")
        again: list[bytes] = []
        succeeded = 0
        dead = 0
        for position, item in enumerate(items):
            outcome = next(iter(item.values()))
            status = int(outcome.get("status", 500))
            action, source = lines[2 * position], lines[2 * position + 1]
            if status < 300:
                succeeded += 1
            elif status in RETRYABLE_ITEM_STATUSES:
                again += [action, source]
            else:
                reason = f"{outcome.get('error', {}).get('type')}: {outcome.get('error', {})}"
                replacement = self.refused(action, source, reason)
                if replacement is None:
                    dead += 1
                else:
                    again += [action, replacement]
        body = b"\n".join(again) + b"\n" if again else b""
        return body, succeeded, succeeded + dead

    def refused(self, action: bytes, source: bytes, reason: str) -> bytes | None:
        """A refused document is retried once degraded; refused again, it is dead-lettered."""
        document = orjson.loads(source)
        if "pipeline.degraded" not in (document.get("tags") or []):
            metrics.DOCUMENTS_DEGRADED.inc()
            log.warning(
                "document refused (%s); indexing it degraded",
                reason[:300],
                extra={"event": "pipeline.document_degraded"},
            )
            return orjson.dumps(degraded_document(document, reason, source.decode()))
        metrics.RECORDS_DROPPED.labels(reason="refused").inc()
        log.error(
            "degraded document refused too (%s); written to %s",
            reason,
            self.dead_letters,
            extra={"event": "pipeline.document_dead_lettered"},
        )
        with self.dead_letters.open("ab") as file:
            file.write(action + b"\n" + source + b"\n")
        return None
