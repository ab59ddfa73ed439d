"""Telemetry shipped by the stack's own services (booking, router, sandbox, pipeline) as it lands
in Elasticsearch: no secret from a URL in any span, log document or the pipeline's buffer."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.polling import eventually

LENIENT = {"ignore_unavailable": "true", "allow_no_indices": "true"}


def traceparent(trace_id: str) -> dict[str, str]:
    """A sampled W3C parent, so the service's spans and log lines carry our `trace_id`."""
    return {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"}


def documents(es: str, index: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    httpx.post(f"{es}/{index}/_refresh", params=LENIENT, timeout=30)
    response = httpx.post(
        f"{es}/{index}/_search",
        params=LENIENT,
        json={"query": query, "size": 10_000, "sort": [{"@timestamp": "asc"}]},
        timeout=30,
    )
    if response.status_code == 503:  # a just-created index whose shard is not started yet
        return []
    response.raise_for_status()
    return [hit["_source"] for hit in response.json()["hits"]["hits"]]


def by_trace(es: str, index: str, trace_id: str) -> list[dict[str, Any]]:
    return documents(es, index, {"term": {"trace.id": trace_id}})


def buffer_sizes(buffer: Path) -> dict[Path, int]:
    return {segment: segment.stat().st_size for segment in buffer.glob("segment-*.ndjson")}


def written_since(buffer: Path, sizes: dict[Path, int]) -> bytes:
    """The bytes the pipeline buffered after `sizes` was taken (older segments are old runs')."""
    written = b""
    for segment in sorted(buffer.glob("segment-*.ndjson")):
        with segment.open("rb") as file:
            file.seek(sizes.get(segment, 0))
            written += file.read()
    return written


def test_a_secret_in_a_query_string_reaches_no_span_log_or_buffer(
    settings: StackSettings, stack: Stack
) -> None:
    es = f"http://{settings.host}:{settings.elasticsearch_port}"
    router = f"http://{settings.host}:{settings.router_port}"
    booking = f"http://{settings.host}:{settings.booking_port}"
    sandbox = f"http://{settings.host}:{settings.sandbox_port}"
    pipeline = f"http://{settings.host}:{settings.pipeline_otlp_port}"
    router_token = (settings.part_dir("router") / "token").read_text().strip()
    secret = f"query-secret-{secrets.token_hex(12)}"
    buffer = settings.part_dir("pipeline") / "buffer"
    sizes = buffer_sizes(buffer)
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    router_trace, booking_trace = secrets.token_hex(16), secrets.token_hex(16)

    refused = httpx.post(
        f"{router}/alerts?token={router_token}&api_key={secret}&receiver=me",
        json={},
        headers=traceparent(router_trace),
        timeout=30,
    )
    assert refused.status_code == 401
    concerts = httpx.get(
        f"{booking}/concerts?token={secret}&password={secret}&signature={secret}&page=1",
        headers=traceparent(booking_trace),
        timeout=30,
    )
    assert concerts.status_code == 200
    sandbox_page = httpx.get(f"{sandbox}/_sandbox?token={secret}", timeout=30)
    assert sandbox_page.status_code == 200
    spans_in = httpx.post(
        f"{pipeline}/v1/traces?token={secret}",
        content=b'{"resourceSpans":[]}',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert spans_in.status_code == 200

    # The requests did reach the telemetry: their spans and log lines are indexed.
    (router_span,) = eventually(
        lambda: by_trace(es, "traces-router-*", router_trace), 60, "the router's span indexed"
    )
    eventually(lambda: by_trace(es, "traces-booking-*", booking_trace), 60, "booking's spans")
    eventually(lambda: by_trace(es, "logs-booking-*", booking_trace), 60, "booking's log line")
    eventually(lambda: by_trace(es, "logs-router-*", router_trace), 60, "the router's log line")
    url = router_span["span.attributes"].get("http.url", "")
    assert "/alerts?token=[REDACTED]&api_key=[REDACTED]&receiver=me" in url  # the rest is kept

    recent = documents(es, "logs-*,traces-*", {"range": {"@timestamp": {"gte": since}}})
    assert recent
    for document in recent:
        text = json.dumps(document)
        assert secret not in text, f"the query secret is in {text[:2000]}"
        assert router_token not in text, f"the router's token is in {text[:2000]}"
    buffered = written_since(buffer, sizes)
    assert router_trace.encode() in buffered
    assert secret.encode() not in buffered
    assert router_token.encode() not in buffered
