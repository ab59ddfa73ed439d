"""SQL statement latency over a run, from the booking service's own SQL spans in Elasticsearch.

The service counts its statements in Prometheus but does not time them, and the stack's MariaDB
runs without performance_schema; every statement is a CLIENT span (instrumentation/tracing.py)
shipped to `traces-<service>-*`, so the latency the service saw is there, by percentile."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx

SPAN_ARRIVAL_SECONDS = 30.0  # spans reach Elasticsearch through the pipeline a little later
PERCENTS = (50, 95, 99)


class ElasticsearchUnavailable(RuntimeError):
    """Elasticsearch did not answer; the run's other figures still stand."""


def _search(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    try:
        answer = client.post("/traces-booking-*/_search", json=body)
        answer.raise_for_status()
    except httpx.HTTPError as error:
        raise ElasticsearchUnavailable(f"Elasticsearch at {client.base_url}: {error}") from None
    result: dict[str, Any] = answer.json()
    return result


def _window_query(start: float, end: float) -> dict[str, Any]:
    return {
        "bool": {
            "filter": [
                {"exists": {"field": "span.attributes.db.system"}},
                {"range": {"@timestamp": {"gte": int(start * 1000), "lte": int(end * 1000)}}},
            ]
        }
    }


def _wait_for_spans_until(client: httpx.Client, end: float) -> None:
    """Until a SQL span from the run's last seconds is searchable (polls, never assumes)."""
    deadline = time.monotonic() + SPAN_ARRIVAL_SECONDS
    while time.monotonic() < deadline:
        seen = _search(client, {"size": 0, "query": _window_query(end - 5, end)})
        if seen["hits"]["total"]["value"]:
            return
        time.sleep(1.0)


def sql_latency_panel(url: str, start: float, end: float, step: float) -> dict[str, Any]:
    """A panel (as loadtest.server's) with the p50 / p95 / p99 of SQL statements per step."""
    with httpx.Client(base_url=url, timeout=30) as client:
        _wait_for_spans_until(client, end)
        body = {
            "size": 0,
            "query": _window_query(start, end),
            "aggs": {
                "over_time": {
                    "date_histogram": {
                        "field": "@timestamp",
                        "fixed_interval": f"{max(1, math.ceil(step))}s",
                    },
                    "aggs": {
                        "latency": {
                            "percentiles": {"field": "span.duration_ms", "percents": PERCENTS}
                        }
                    },
                }
            },
        }
        buckets = _search(client, body)["aggregations"]["over_time"]["buckets"]
    series: dict[str, list[list[float | None]]] = {f"p{p}": [] for p in PERCENTS}
    for bucket in buckets:
        moment = bucket["key"] / 1000
        values = bucket["latency"]["values"]
        for percent in PERCENTS:
            value = values.get(f"{float(percent)}")
            series[f"p{percent}"].append([moment, None if value is None else value / 1000])
    return {
        "title": "SQL statement latency (the service's SQL spans)",
        "unit": "s",
        "series": series,
    }
