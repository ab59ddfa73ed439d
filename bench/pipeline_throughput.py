"""Events/s from a forward-protocol sender through the pipeline into Elasticsearch, against
direct bulk indexing of the same records from the same generator in the same run.

Needs the stack's Elasticsearch and pipeline running (`soundcheck up elasticsearch pipeline`,
with the same SOUNDCHECK_* environment). Not a test: it prints figures, it asserts nothing.

    .venv/bin/python bench/pipeline_throughput.py --records 200000 --rounds 3

Both sides index the same documents, with ids of the same shape, into indices made by the same
template, each bulk counted when its response came back. An untimed warm-up goes through both
paths first; after every phase its index is refreshed and flushed and merges are let finish
(untimed), so no phase pays for the one before. Phases alternate direct, pipeline, direct, ...
(`--rounds` pipeline phases); each side's figure is the mean of its phases.
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
from tests.support.polling import eventually

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


def buffer_like_ids(documents: list[dict[str, Any]], generation: str, segment: int) -> list[str]:
    """Ids shaped as the pipeline's buffer gives them (`<generation>-<segment>-<byte offset>`,
    about 20 characters), so Elasticsearch does the same `_id` work on both sides: short
    numeric ids ("0" ... "199999") were measurably cheaper for it to index."""
    ids = []
    offset = 0
    for document in documents:
        ids.append(f"{generation}-{segment}-{offset}")
        offset += len(orjson.dumps(document)) + 80  # the document and its action line
    return ids


def direct_bulk(
    es: httpx.Client,
    records: list[dict[str, Any]],
    ids: list[str],
    index: str,
    batch: int,
    concurrency: int,
) -> float:
    """Seconds to index `records` with plain bulk requests of `batch` documents, with as many
    requests in flight as the pipeline's writer uses (SOUNDCHECK_PIPELINE_BULK_CONCURRENCY)."""

    def send(start: int) -> None:
        lines = []
        for offset, record in enumerate(records[start : start + batch]):
            action = {"index": {"_index": index, "_id": ids[start + offset]}}
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


def settle(es: httpx.Client, index: str) -> None:
    """Untimed, after each phase: its index refreshed and flushed and no merge running, so the
    next phase does not pay for the background work the previous one left behind."""
    es.post(f"/{index}/_refresh")
    es.post(f"/{index}/_flush")

    def merges_done() -> bool:
        nodes = es.get("/_nodes/stats/indices/merge").json()["nodes"].values()
        return all(node["indices"]["merges"]["current"] == 0 for node in nodes)

    eventually(merges_done, 60, f"no merge running after writing {index}")


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
    parser.add_argument("--warmup", type=int, default=50_000, help="untimed records per path")
    parser.add_argument("--rounds", type=int, default=1, help="pipeline runs, each between two")
    args = parser.parse_args()
    settings = load_settings()
    run = uuid.uuid4().hex[:8]
    es = httpx.Client(base_url=f"http://{settings.host}:{settings.elasticsearch_port}", timeout=120)
    service = f"bench-{run}"
    records = list(generate(service, args.records))
    day = time.strftime("%Y.%m.%d", time.gmtime())

    # Direct bulk before and after each pipeline run, so a machine that gets busier or quieter
    # during the run does not favour either side; same template, same mappings, same documents.
    concurrency = args.concurrency or PipelineSettings().bulk_concurrency
    documents = as_indexed(records)
    forward = (settings.host, settings.pipeline_forward_port)
    pipeline_url = f"http://{settings.host}:{settings.pipeline_otlp_port}"

    # Untimed warm-up of both paths (a cold Elasticsearch JIT would slow whichever goes first).
    warm = min(len(records), args.warmup)
    warm_index = f"logs-bench-warmup-{run}-{day}"
    warm_ids = buffer_like_ids(documents[:warm], run, 0)
    direct_bulk(es, documents[:warm], warm_ids, warm_index, args.bulk, concurrency)
    warm_records = list(generate(f"bench-warmup-{run}", warm))
    through_pipeline(forward, pipeline_url, warm_records, args.batch)
    es.delete(f"/{warm_index},logs-bench-warmup-{run}-*")
    settle(es, "_all")

    def direct_phase(number: int) -> float:
        index = f"logs-bench-direct-{run}-{number}-{day}"
        ids = buffer_like_ids(documents, run, number + 1)
        seconds = direct_bulk(es, documents, ids, index, args.bulk, concurrency)
        settle(es, index)
        check(count(es, index) == len(records), f"{index} does not hold every record once")
        es.delete(f"/{index}")
        print(f"  direct bulk:          {seconds:6.1f} s  {len(records) / seconds:9.0f} events/s")
        return seconds

    def pipeline_phase(number: int) -> tuple[float, float]:
        service = f"bench-{run}-{number}"
        records = list(generate(service, args.records))
        acked, seconds = through_pipeline(forward, pipeline_url, records, args.batch)
        settle(es, f"logs-{service}-*")
        index = f"logs-{service}-*"
        check(count(es, index) == len(records), f"{index} does not hold every record once")
        es.delete(f"/{index}")
        rate = len(records) / seconds
        print(f"  through the pipeline: {seconds:6.1f} s  {rate:9.0f} events/s (acked {acked:.1f})")
        return acked, seconds

    direct = [direct_phase(0)]
    piped = []
    for number in range(1, args.rounds + 1):
        piped.append(pipeline_phase(number))
        direct.append(direct_phase(number))
    direct_seconds = sum(direct) / len(direct)
    acked_seconds = sum(acked for acked, _ in piped) / len(piped)
    pipeline_seconds = sum(seconds for _, seconds in piped) / len(piped)
    direct_rate = len(records) / direct_seconds
    pipeline_rate = len(records) / pipeline_seconds
    print(f"records:                {len(records)} (bulk requests in flight: {concurrency})")
    mean_of = f"(mean of {len(direct)})"
    print(f"direct bulk {mean_of}:{direct_seconds:6.1f} s  {direct_rate:9.0f} events/s")
    acked_rate = len(records) / acked_seconds
    print(f"sender acked (on disk): {acked_seconds:6.1f} s  {acked_rate:9.0f} events/s")
    print(f"through the pipeline:   {pipeline_seconds:6.1f} s  {pipeline_rate:9.0f} events/s")
    print(f"ratio pipeline/direct:  {pipeline_rate / direct_rate:.2f}")


if __name__ == "__main__":
    main()
