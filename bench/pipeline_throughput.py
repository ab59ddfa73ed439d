"""Events/s from a forward-protocol sender through the pipeline into Elasticsearch, against
direct bulk indexing of the same records from the same generator in the same run.

Needs the stack's Elasticsearch and pipeline running (`soundcheck up elasticsearch pipeline`,
with the same SOUNDCHECK_* environment). Not a test: it prints figures, it asserts nothing.

    .venv/bin/python bench/pipeline_throughput.py --records 200000
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson

from pipeline.documents import log_document
from pipeline.forward_client import ForwardClient
from pipeline.settings import PipelineSettings
from soundcheck.settings import load_settings

LEVELS = ("INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG")
ACTIONS = ("http.request.completed", "distributed_lock.acquired", "kafka.message.sent")
TAG = "booking.app"


def generate(service: str, count: int) -> Iterator[dict[str, Any]]:
    """Booking-service-like ECS log records (about 400 bytes of JSON each)."""
    for n in range(count):
        yield {
            "message": f"POST /reservations completed with 201 for seat A-{n % 500}",
            "log.level": LEVELS[n % len(LEVELS)],
            "log.logger": "booking_app.reservations",
            "service.name": service,
            "event.action": ACTIONS[n % len(ACTIONS)],
            "event.duration": 1_000_000 * (n % 1500),
            "http.request.method": "POST",
            "url.path": "/reservations",
            "http.response.status_code": 201,
            "trace.id": f"{n:032x}",
            "span.id": f"{n:016x}",
            "user.id": str(n % 10_000),
            "seq": n,
        }


def count(es: httpx.Client, index: str) -> int:
    es.post(f"/{index}/_refresh")
    response = es.get(f"/{index}/_count")
    return int(response.json()["count"]) if response.status_code == 200 else 0


def direct_bulk(
    es: httpx.Client, records: list[dict[str, Any]], index: str, batch: int, concurrency: int
) -> float:
    """Seconds to index `records` with plain bulk requests of `batch` documents, with as many
    requests in flight as the pipeline's writer uses (SOUNDCHECK_PIPELINE_BULK_CONCURRENCY)."""

    def send(start: int) -> None:
        lines = []
        for offset, record in enumerate(records[start : start + batch]):
            action = {"index": {"_index": index, "_id": str(start + offset)}}
            lines += [orjson.dumps(action), orjson.dumps(record)]
        response = es.post(
            "/_bulk?filter_path=errors",
            content=b"\n".join(lines) + b"\n",
            headers={"Content-Type": "application/x-ndjson"},
        )
        response.raise_for_status()
        check(not response.json()["errors"], "direct bulk had item errors")

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, range(0, len(records), batch)))
    return time.perf_counter() - began


def as_indexed(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents the pipeline makes of `records` (with `@timestamp` and `event.dataset`), so
    that direct bulk gives Elasticsearch exactly the same work per document."""
    now = time.time()
    seconds = int(now)
    nanoseconds = int((now - seconds) * 1e9)
    return [log_document(TAG, seconds, nanoseconds, dict(record))[1] for record in records]


def indexed_so_far(metrics: httpx.Client) -> float:
    """The pipeline's `pipeline_documents_indexed_total`: documents Elasticsearch confirmed."""
    for line in metrics.get("/metrics").text.splitlines():
        if line.startswith("pipeline_documents_indexed_total "):
            return float(line.split()[1])
    return 0.0


def through_pipeline(
    address: tuple[str, int], pipeline_url: str, records: list[dict[str, Any]], batch: int
) -> tuple[float, float]:
    """Seconds until every record is acked, and until Elasticsearch confirmed every one.

    "Confirmed" is the same criterion as direct bulk (the bulk response came back); polling the
    index with `_refresh` instead would slow Elasticsearch down for this side only. The metric
    is polled rarely while much is left and every 20 ms near the end: every poll costs CPU on
    the machine Elasticsearch runs on, which direct bulk does not pay.
    """
    with httpx.Client(base_url=pipeline_url) as metrics:
        before = indexed_so_far(metrics)
        began = time.perf_counter()
        with ForwardClient(*address) as client:
            for start in range(0, len(records), batch):
                client.send(TAG, records[start : start + batch], compress=False)
        acked = time.perf_counter() - began
        while (left := len(records) - (indexed_so_far(metrics) - before)) > 0:
            rate = (len(records) - left) / (time.perf_counter() - began) or len(records)
            time.sleep(min(max(left / rate / 2, 0.02), 0.5))
        return acked, time.perf_counter() - began


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"benchmark invalid: {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000, help="records per forward chunk")
    parser.add_argument("--bulk", type=int, default=5000, help="documents per direct bulk")
    parser.add_argument(
        "--concurrency", type=int, default=0, help="direct bulks in flight (default: as the writer)"
    )
    args = parser.parse_args()
    settings = load_settings()
    run = uuid.uuid4().hex[:8]
    es = httpx.Client(base_url=f"http://{settings.host}:{settings.elasticsearch_port}", timeout=120)
    service = f"bench-{run}"
    records = list(generate(service, args.records))
    day = time.strftime("%Y.%m.%d", time.gmtime())

    # Direct bulk before and after the pipeline run, so a machine that gets busier or quieter
    # during the run does not favour either side; same template, same mappings.
    direct_indices = [f"logs-bench-direct-{run}-a-{day}", f"logs-bench-direct-{run}-b-{day}"]
    concurrency = args.concurrency or PipelineSettings().bulk_concurrency
    documents = as_indexed(records)
    direct_seconds = direct_bulk(es, documents, direct_indices[0], args.bulk, concurrency)
    forward = (settings.host, settings.pipeline_forward_port)
    pipeline_url = f"http://{settings.host}:{settings.pipeline_otlp_port}"
    acked_seconds, pipeline_seconds = through_pipeline(forward, pipeline_url, records, args.batch)
    direct_seconds += direct_bulk(es, documents, direct_indices[1], args.bulk, concurrency)
    direct_seconds /= 2
    for index in [*direct_indices, f"logs-{service}-*"]:
        check(count(es, index) == len(records), f"{index} does not hold every record once")
    direct_rate = len(records) / direct_seconds
    pipeline_rate = len(records) / pipeline_seconds
    print(f"records:                {len(records)} (bulk requests in flight: {concurrency})")
    print(f"direct bulk (mean of 2):{direct_seconds:6.1f} s  {direct_rate:9.0f} events/s")
    acked_rate = len(records) / acked_seconds
    print(f"sender acked (on disk): {acked_seconds:6.1f} s  {acked_rate:9.0f} events/s")
    print(f"through the pipeline:   {pipeline_seconds:6.1f} s  {pipeline_rate:9.0f} events/s")
    print(f"ratio pipeline/direct:  {pipeline_rate / direct_rate:.2f}")
    es.delete(f"/{','.join(direct_indices)},logs-{service}-*")


if __name__ == "__main__":
    main()
