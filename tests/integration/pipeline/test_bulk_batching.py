"""A trickle of log lines reaches Elasticsearch in a few shared bulks, not one bulk per line."""

from __future__ import annotations

import time

import httpx

from pipeline.forward_client import ForwardClient
from tests.support.elasticsearch_queries import sources
from tests.support.polling import eventually


def bulk_requests(pipeline_url: str) -> float:
    for line in httpx.get(f"{pipeline_url}/metrics", timeout=10).text.splitlines():
        if line.startswith("pipeline_bulk_requests_total "):
            return float(line.split()[-1])
    raise AssertionError("the pipeline's /metrics has no pipeline_bulk_requests_total")


def test_a_trickle_of_records_shares_bulks(
    es: httpx.Client, forward_address: tuple[str, int], pipeline_url: str, service: str
) -> None:
    """One acked record every ~10 ms: each bulk smaller than a full one waits up to the flush
    interval (0.2 s) for more, so about a second of them takes a handful of bulks (one per
    record without it: ~100), and every record still arrives."""
    before = bulk_requests(pipeline_url)
    with ForwardClient(*forward_address) as client:
        for n in range(100):
            client.send("booking.app", [{"message": f"trickle {n}", "service.name": service}])
            time.sleep(0.01)  # the trickle under test, not a wait for anything
    docs = eventually(
        lambda: (found := sources(es, f"logs-{service}-*")) and len(found) == 100 and found,
        30,
        "100 trickled records indexed",
    )
    assert sorted(d["message"] for d in docs) == sorted(f"trickle {n}" for n in range(100))
    assert bulk_requests(pipeline_url) - before <= 20
