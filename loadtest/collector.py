"""What the load generator measured, per second and per request name, in a form that merges
(a Locust master adds up what its workers send) and turns into the run's client figures."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

ERROR_SAMPLES = 20


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile (k6's and Locust's reports use the same idea); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Collector:
    """Every answer, filed by the second it completed in and by request name."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        # second → [requests, failures, measured latencies (ms)]
        self.seconds: dict[int, list[Any]] = {}
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, int]] = defaultdict(dict)
        self.cache: dict[str, Any] = {"reads": 0, "hits": 0, "hit_ms": []}
        self.errors: list[dict[str, Any]] = []
        self.starts: list[float] = []  # seconds each visitor took to start (the queue wait)
        self.steps: dict[int, dict[str, Any]] = {}  # capacity: by step, by arrival's start
        # second → "name status" → failed answers (a drill counts them inside its fault window)
        self.failed: dict[int, dict[str, int]] = {}

    def record(
        self,
        second: int,
        name: str,
        measured: bool,
        status: int,
        ok: bool,
        elapsed_ms: float,
        cache_hit: str | None = None,
        tag: str | None = None,
        step: int | None = None,
        error: str | None = None,
    ) -> None:
        bucket = self.seconds.setdefault(second, [0, 0, []])
        bucket[0] += 1
        bucket[1] += 0 if ok else 1
        if measured:
            bucket[2].append(elapsed_ms)
        endpoint = self.endpoints.setdefault(
            name, {"measured": measured, "statuses": {}, "failures": 0, "ms": []}
        )
        code = str(status)
        endpoint["statuses"][code] = endpoint["statuses"].get(code, 0) + 1
        endpoint["failures"] += 0 if ok else 1
        endpoint["ms"].append(elapsed_ms)
        if tag is not None:
            self.tags[tag][code] = self.tags[tag].get(code, 0) + 1
        if cache_hit is not None:
            self.cache["reads"] += 1
            if cache_hit == "true":
                self.cache["hits"] += 1
                self.cache["hit_ms"].append(elapsed_ms)
        if not ok:
            failed = self.failed.setdefault(second, {})
            failed[f"{name} {code}"] = failed.get(f"{name} {code}", 0) + 1
        if not ok and len(self.errors) < ERROR_SAMPLES:
            self.errors.append({"name": name, "status": status, "error": (error or "")[:300]})
        if step is not None:
            found = self.steps.setdefault(step, {"requests": 0, "failures": 0, "ms": []})
            found["requests"] += 1
            found["failures"] += 0 if ok else 1
            found["ms"].append(elapsed_ms)

    def drain(self) -> dict[str, Any]:
        """Everything so far, as plain data, and start again (a worker's report to its master)."""
        data = {
            "seconds": {str(k): v for k, v in self.seconds.items()},
            "endpoints": self.endpoints,
            "tags": dict(self.tags),
            "cache": self.cache,
            "errors": self.errors,
            "starts": self.starts,
            "steps": {str(k): v for k, v in self.steps.items()},
            "failed": {str(k): v for k, v in self.failed.items()},
        }
        self.reset()
        return data

    def merge(self, data: dict[str, Any]) -> None:
        for second, (requests, failures, ms) in data["seconds"].items():
            bucket = self.seconds.setdefault(int(second), [0, 0, []])
            bucket[0] += requests
            bucket[1] += failures
            bucket[2].extend(ms)
        for name, theirs in data["endpoints"].items():
            mine = self.endpoints.setdefault(
                name, {"measured": theirs["measured"], "statuses": {}, "failures": 0, "ms": []}
            )
            for code, count in theirs["statuses"].items():
                mine["statuses"][code] = mine["statuses"].get(code, 0) + count
            mine["failures"] += theirs["failures"]
            mine["ms"].extend(theirs["ms"])
        for tag, statuses in data["tags"].items():
            for code, count in statuses.items():
                self.tags[tag][code] = self.tags[tag].get(code, 0) + count
        self.cache["reads"] += data["cache"]["reads"]
        self.cache["hits"] += data["cache"]["hits"]
        self.cache["hit_ms"].extend(data["cache"]["hit_ms"])
        self.errors.extend(data["errors"][: max(0, ERROR_SAMPLES - len(self.errors))])
        self.starts.extend(data["starts"])
        for step, theirs in data["steps"].items():
            found = self.steps.setdefault(int(step), {"requests": 0, "failures": 0, "ms": []})
            found["requests"] += theirs["requests"]
            found["failures"] += theirs["failures"]
            found["ms"].extend(theirs["ms"])
        for second, theirs in data.get("failed", {}).items():
            failed = self.failed.setdefault(int(second), {})
            for key, count in theirs.items():
                failed[key] = failed.get(key, 0) + count

    def window(self, until: int, seconds: int) -> tuple[float, float | None, float]:
        """(requests/s, measured p95 ms, error %) over the last `seconds` before `until`."""
        requests = failures = 0
        ms: list[float] = []
        for second in range(until - seconds, until):
            bucket = self.seconds.get(second)
            if bucket:
                requests += bucket[0]
                failures += bucket[1]
                ms.extend(bucket[2])
        error = 100.0 * failures / requests if requests else 0.0
        return requests / seconds, percentile(ms, 0.95), error


def summarize(
    collector: Collector, users: dict[int, int], started_at: float, ended_at: float
) -> dict[str, Any]:
    """The client's figures: totals (measured requests for latency and throughput, every
    request for errors), per endpoint, per second, the cache and the tags."""
    measured_ms: list[float] = []
    measured_failures = measured_requests = 0
    requests = failures = 0
    statuses: dict[str, int] = {}
    endpoints = []
    for name, e in sorted(collector.endpoints.items()):
        count = sum(e["statuses"].values())
        requests += count
        failures += e["failures"]
        for code, n in e["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
        if e["measured"]:
            measured_ms.extend(e["ms"])
            measured_requests += count
            measured_failures += e["failures"]
        endpoints.append(
            {
                "name": name,
                "measured": e["measured"],
                "requests": count,
                "failures": e["failures"],
                "statuses": dict(sorted(e["statuses"].items())),
                "p50_ms": percentile(e["ms"], 0.50),
                "p95_ms": percentile(e["ms"], 0.95),
                "p99_ms": percentile(e["ms"], 0.99),
                "max_ms": max(e["ms"]) if e["ms"] else None,
            }
        )
    duration = max(ended_at - started_at, 1e-9)
    series = []
    first = int(started_at)
    for second in range(first, int(ended_at) + 1):
        bucket = collector.seconds.get(second, [0, 0, []])
        series.append(
            {
                "t": second,
                "users": users.get(second, 0),
                "requests": bucket[0],
                "failures": bucket[1],
                "p50_ms": percentile(bucket[2], 0.50),
                "p95_ms": percentile(bucket[2], 0.95),
                "p99_ms": percentile(bucket[2], 0.99),
            }
        )
    cache = collector.cache
    return {
        "started_at": started_at,
        "ended_at": ended_at,
        "duration_seconds": duration,
        "requests": measured_requests,
        "failures": measured_failures,
        "rps": measured_requests / duration,
        "p50_ms": percentile(measured_ms, 0.50),
        "p95_ms": percentile(measured_ms, 0.95),
        "p99_ms": percentile(measured_ms, 0.99),
        "max_ms": max(measured_ms) if measured_ms else None,
        "all_requests": requests,
        "all_failures": failures,
        "error_rate_percent": 100.0 * failures / requests if requests else None,
        "statuses": dict(sorted(statuses.items())),
        "users_peak": max(users.values(), default=0),
        "endpoints": endpoints,
        "cache": {
            "reads": cache["reads"],
            "hits": cache["hits"],
            "hit_rate_percent": 100.0 * cache["hits"] / cache["reads"] if cache["reads"] else None,
            "cached_p95_ms": percentile(cache["hit_ms"], 0.95),
        },
        "visitors": {
            "started": len(collector.starts),
            "start_p50_seconds": percentile(collector.starts, 0.50),
            "start_max_seconds": max(collector.starts, default=None),
        },
        "tags": dict(collector.tags),
        "error_samples": collector.errors,
        "series": series,
    }
