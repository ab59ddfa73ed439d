"""`soundcheck load compare A B`: two runs side by side, B as a ratio of A (before/after)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    label: str
    path: tuple[str, ...]
    unit: str
    better: str  # "lower" or "higher": which way a ratio is an improvement


FIGURES = (
    Figure("p50", ("client", "p50_ms"), "ms", "lower"),
    Figure("p95", ("client", "p95_ms"), "ms", "lower"),
    Figure("p99", ("client", "p99_ms"), "ms", "lower"),
    Figure("timed requests/s", ("client", "rps"), "req/s", "higher"),
    Figure("timed requests", ("client", "requests"), "", "higher"),
    Figure("errors", ("client", "error_rate_percent"), "%", "lower"),
    Figure("cache hit", ("client", "cache", "hit_rate_percent"), "%", "higher"),
    Figure("cached read p95", ("client", "cache", "cached_p95_ms"), "ms", "lower"),
    Figure("lock success", ("server", "locks", "success_percent"), "%", "higher"),
    Figure("memory growth", ("server", "memory", "growth_percent"), "%", "lower"),
    Figure("max rate that held", ("capacity", "max_rate_held"), "/s", "higher"),
    Figure(
        "generator CPU max",
        ("server", "saturation", "generator_cpu_max_percent"),
        "% core",
        "lower",
    ),
)


def pick(summary: dict[str, Any], path: tuple[str, ...]) -> float | None:
    found: Any = summary
    for key in path:
        if not isinstance(found, dict) or found.get(key) is None:
            return None
        found = found[key]
    return float(found) if isinstance(found, int | float) else None


def cpu_max(summary: dict[str, Any]) -> dict[str, float]:
    parts = summary.get("server", {}).get("cpu", {}).get("parts_cpu_percent", {})
    return {name: max(values, default=0.0) for name, values in parts.items()}


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of (figure, A, B, B/A, whether B is better), for every figure either run has."""
    rows = []
    figures = list(FIGURES)
    for part in sorted(set(cpu_max(a)) | set(cpu_max(b))):
        figures.append(Figure(f"CPU max: {part}", ("__cpu__", part), "% core", "lower"))
    for figure in figures:
        if figure.path[0] == "__cpu__":
            va, vb = cpu_max(a).get(figure.path[1]), cpu_max(b).get(figure.path[1])
        else:
            va, vb = pick(a, figure.path), pick(b, figure.path)
        if va is None and vb is None:
            continue
        ratio = vb / va if va and vb is not None else None
        better = None
        if ratio is not None and ratio != 1:
            better = (ratio < 1) == (figure.better == "lower")
        rows.append(
            {
                "figure": figure.label,
                "unit": figure.unit,
                "a": va,
                "b": vb,
                "ratio": ratio,
                "better": better,
            }
        )
    return rows
