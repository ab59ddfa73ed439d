"""Elasticsearch queries for the pipeline tests: search, every document of an index, a metric."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

LENIENT = {"ignore_unavailable": "true", "allow_no_indices": "true"}


def search(es: httpx.Client, index: str, body: dict[str, Any]) -> dict[str, Any]:
    response = es.post(f"/{index}/_search", params=LENIENT, json=body)
    if response.status_code == 503:  # a just-created index whose shard is not started yet
        return {"hits": {"hits": [], "total": {"value": 0}}}
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def sources(es: httpx.Client, index: str, size: int = 10_000) -> list[dict[str, Any]]:
    es.post(f"/{index}/_refresh", params=LENIENT)
    hits = search(es, index, {"size": size, "sort": ["_doc"]})["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def metric_value(pipeline_url: str, name: str, **labels: str) -> float:
    """One sample of the pipeline's `/metrics` (0 when that label set was never counted)."""
    text = httpx.get(f"{pipeline_url}/metrics", timeout=10).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
