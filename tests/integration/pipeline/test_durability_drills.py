"""Nothing lost: Elasticsearch down for a minute, and the receiver killed mid-stream.

Both drills bring the part they stop back up through the Stack API before they end.
`SOUNDCHECK_TEST_ES_OUTAGE_SECONDS` shortens the outage for a quick local run (default 60 s, as
the issue asks).
"""

from __future__ import annotations

import threading
import time

import httpx

from pipeline.forward_client import AckMissing, ForwardClient
from soundcheck.settings import TestRunSettings
from soundcheck.stack.stack import Stack
from tests.support.elasticsearch_queries import LENIENT, search, sources
from tests.support.polling import eventually

Address = tuple[str, int]
OUTAGE_SECONDS = TestRunSettings().test_es_outage_seconds
RECORDS = 10_000
BATCH = 100


def count(es: httpx.Client, index: str) -> int:
    es.post(f"/{index}/_refresh", params=LENIENT)
    return int(search(es, index, {"size": 0, "track_total_hits": True})["hits"]["total"]["value"])


def test_elasticsearch_down_for_a_minute_loses_and_duplicates_nothing(
    stack: Stack, es: httpx.Client, forward_address: Address, pipeline_url: str, service: str
) -> None:
    stack.stop(["elasticsearch"])
    try:
        began = time.monotonic()
        with ForwardClient(*forward_address) as client:
            for start in range(0, RECORDS, BATCH):
                batch = [
                    {"message": f"during the outage {n}", "service.name": service, "seq": n}
                    for n in range(start, start + BATCH)
                ]
                client.send("booking.app", batch)  # acked: on the pipeline's disk
                # Spread the records over the outage, as an app's logging would.
                pace = began + OUTAGE_SECONDS * (start + BATCH) / RECORDS - time.monotonic()
                if pace > 0:
                    time.sleep(pace)
        eventually(
            lambda: "pipeline_elasticsearch_up 0.0" in httpx.get(f"{pipeline_url}/metrics").text,
            30,
            "the pipeline noticed Elasticsearch is down",
        )
    finally:
        stack.up(["elasticsearch"])
    eventually(lambda: count(es, f"logs-{service}-*") >= RECORDS, 180, "all records indexed")
    assert count(es, f"logs-{service}-*") == RECORDS  # none twice
    seqs = sorted(doc["seq"] for doc in sources(es, f"logs-{service}-*", size=RECORDS))
    assert seqs == list(range(RECORDS))  # every one


def test_receiver_killed_mid_stream_loses_nothing_it_acked(
    stack: Stack, es: httpx.Client, forward_address: Address, service: str
) -> None:
    acked: list[int] = []
    failures: list[str] = []
    stop = threading.Event()
    # The producer is paced (a batch of 50 every 10 ms at most) so that, however fast the
    # machine, the kill lands early in the stream and there is room for 2,000 more after it.
    limit = 9_000

    def produce() -> None:
        seq = 0
        while not stop.is_set() and seq < limit:
            try:
                with ForwardClient(*forward_address, timeout=10) as client:
                    while not stop.is_set() and seq < limit:
                        batch = [
                            {"message": f"stream {n}", "service.name": service, "seq": n}
                            for n in range(seq, seq + 50)
                        ]
                        seq += 50
                        client.send("booking.app", batch)
                        acked.extend(item["seq"] for item in batch)  # type: ignore[misc]
                        stop.wait(0.01)
            except (OSError, AckMissing) as error:
                failures.append(repr(error))  # that batch was not acked: it may or may not land
                stop.wait(0.1)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        eventually(lambda: len(acked) >= 2000, 60, "2000 records acked before the kill")
        stack.kill("pipeline")
        killed_at = len(acked)
    finally:
        stack.up(["pipeline"])
    assert killed_at + 2000 <= limit, f"the stream was nearly over ({killed_at}) at the kill"
    eventually(lambda: len(acked) >= killed_at + 2000, 60, "records acked again after restart")
    stop.set()
    producer.join(timeout=30)
    assert failures, "the kill should have cut the stream at least once"
    eventually(
        lambda: set(acked) <= {d["seq"] for d in sources(es, f"logs-{service}-*")},
        120,
        "every acked record indexed after the restart",
    )
    seqs = [doc["seq"] for doc in sources(es, f"logs-{service}-*")]
    assert len(seqs) == len(set(seqs)), "a record was indexed twice"
