"""Runs a saved search against Elasticsearch and shapes the hits as a table for the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from pipeline.documents import field
from pipeline.searches import SavedSearch, search_body

MESSAGE_WIDTH = 120


class SearchFailed(Exception):
    """Elasticsearch could not run the search; the message says what to check."""


@dataclass
class SearchResult:
    search: SavedSearch
    columns: list[str]
    rows: list[list[str]]
    total: int
    counts: dict[str, int]


def search_elasticsearch(
    elasticsearch_url: str, index: str, body: dict[str, Any], timeout: float = 30.0
) -> dict[str, Any]:
    """Elasticsearch's answer to `body` over `index` (no such index yet: no hits)."""
    try:
        response = httpx.post(
            f"{elasticsearch_url.rstrip('/')}/{index}/_search",
            params={"ignore_unavailable": "true", "allow_no_indices": "true"},
            json=body,
            timeout=timeout,
        )
    except httpx.HTTPError as error:
        raise SearchFailed(
            f"Elasticsearch at {elasticsearch_url} did not answer ({type(error).__name__}); "
            "is the stack up (`soundcheck status`)?"
        ) from error
    if response.status_code != 200:
        raise SearchFailed(
            f"Elasticsearch refused the search ({response.status_code}): {response.text[:300]}"
        )
    answer: dict[str, Any] = response.json()
    return answer


def run_search(
    elasticsearch_url: str,
    search: SavedSearch,
    trace_id: str | None = None,
    size: int = 50,
    since: str | None = None,
) -> SearchResult:
    if search.needs_trace_id and not trace_id:
        raise SearchFailed(f"{search.title!r} needs --trace-id (the 32-hex-digit trace id).")
    body = search_body(
        search, trace_id=trace_id, start=f"now-{since}" if since else None, size=size
    )
    result = search_elasticsearch(elasticsearch_url, search.index, body)
    hits = [hit["_source"] for hit in result["hits"]["hits"]]
    if search.group_by:
        group = search.group_by
        hits.sort(key=lambda source: str(field(source, group) or ""))
    columns = ["@timestamp", *search.columns]
    rows = [[cell(field(source, column)) for column in columns] for source in hits]
    for row in rows:  # 2026-11-24T07:55:59.123456789Z -> 2026-11-24 07:55:59.123
        row[0] = row[0].replace("T", " ")[:23]
    buckets = result.get("aggregations", {}).get("groups", {}).get("buckets", [])
    return SearchResult(
        search,
        columns,
        rows,
        int(result["hits"]["total"]["value"]),
        {str(b["key"]): int(b["doc_count"]) for b in buckets},
    )


def cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value).replace("\n", " ")
    return text if len(text) <= MESSAGE_WIDTH else text[: MESSAGE_WIDTH - 1] + "…"
