"""What the background traffic saw, split at the fault window: requests, failures by request name
and status (status 0: no answer, a timeout or a refused connection), availability, p95; and when
the answers were good again after the repair."""

from __future__ import annotations

from typing import Any

from loadtest.collector import percentile


def window_figures(
    client: dict[str, Any], inside: tuple[float, float], want_inside: bool
) -> dict[str, Any]:
    """Figures of the seconds inside the window [start, end) (or outside it)."""
    start, end = int(inside[0]), int(inside[1]) + 1
    requests = failures = 0
    ms: list[float] = []
    failed: dict[str, int] = {}
    detail = client.get("per_second", {})
    for point in client["series"]:
        second = int(point["t"])
        if (start <= second < end) != want_inside:
            continue
        requests += point["requests"]
        failures += point["failures"]
        found = detail.get(str(second), {})
        ms.extend(found.get("ms", []))
        for key, count in found.get("failed", {}).items():
            failed[key] = failed.get(key, 0) + count
    return {
        "seconds": sum(1 for p in client["series"] if (start <= int(p["t"]) < end) == want_inside),
        "requests": requests,
        "failures": failures,
        "availability_percent": 100.0 * (requests - failures) / requests if requests else None,
        "p95_ms": percentile(ms, 0.95),
        "failed_by_request": dict(sorted(failed.items(), key=lambda kv: -kv[1])),
    }


def good_again_at(client: dict[str, Any], repaired_at: float) -> float:
    """The first second after the repair from which no answer failed (the error rate back under
    the SLO and staying there)."""
    last_failure = max(
        (int(p["t"]) for p in client["series"] if p["failures"] and p["t"] >= int(repaired_at)),
        default=None,
    )
    return repaired_at if last_failure is None else float(last_failure + 1)


def traffic_figures(client: dict[str, Any], fault: tuple[float, float]) -> dict[str, Any]:
    return {
        "scenario": client.get("scenario"),
        "started_at": client["started_at"],
        "ended_at": client["ended_at"],
        "requests": client["all_requests"],
        "failures": client["all_failures"],
        "statuses": client["statuses"],
        "inside": window_figures(client, fault, True),
        "outside": window_figures(client, fault, False),
        "good_again_at": good_again_at(client, fault[1]),
        "series": [
            {
                "t": p["t"],
                "requests": p["requests"],
                "failures": p["failures"],
                "p95_ms": p["p95_ms"],
            }
            for p in client["series"]
        ],
        "error_samples": client.get("error_samples", [])[:10],
    }
