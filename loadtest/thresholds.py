"""The plan's thresholds (§2-5 and each scenario's goals in §2-3): one registry, each reading one
figure of the summary. A failed one makes the run exit non-zero, as k6's thresholds do."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ThresholdError(ValueError):
    """A --threshold option that cannot be used; the message says how to write one."""


@dataclass(frozen=True)
class Threshold:
    name: str
    label: str
    op: str
    target: float
    unit: str
    plan: str  # where the plan sets it
    path: tuple[str, ...]  # where the figure is in summary.json
    # Without a figure the run fails (no timed answer at all), unless the figure may rightly be
    # missing (S1's token request takes no distributed lock; a soak too short to compare).
    required: bool = True

    def value(self, summary: dict[str, Any]) -> float | None:
        found: Any = summary
        for key in self.path:
            if not isinstance(found, dict) or key not in found:
                return None
            found = found[key]
        return None if found is None else float(found)

    def judge(self, summary: dict[str, Any]) -> dict[str, Any]:
        value = self.value(summary)
        result = {
            "name": self.name,
            "label": self.label,
            "op": self.op,
            "target": self.target,
            "unit": self.unit,
            "plan": self.plan,
            "value": value,
        }
        if value is None:
            return {**result, "status": "no data", "passed": not self.required, "by": None}
        passed = COMPARE[self.op](value, self.target)
        return {
            **result,
            "status": "passed" if passed else "failed",
            "passed": passed,
            "by": None if passed else abs(value - self.target),
        }


THRESHOLDS = {
    t.name: t
    for t in (
        Threshold("p95_ms", "p95 latency", "<", 500, "ms", "§2-5", ("client", "p95_ms")),
        Threshold("p99_ms", "p99 latency", "<", 1000, "ms", "§2-5", ("client", "p99_ms")),
        Threshold(
            "error_rate_percent",
            "errors",
            "<",
            1,
            "%",
            "§2-5",
            ("client", "error_rate_percent"),
        ),
        Threshold("min_rps", "throughput", ">", 100, "req/s", "§2-5", ("client", "rps")),
        Threshold(
            "lock_success_percent",
            "distributed lock success",
            ">",
            99,
            "%",
            "§2-5, §2-3 S1/S2",
            ("server", "locks", "success_percent"),
            required=False,
        ),
        Threshold(
            "seats_sold_twice",
            "seats with two live reservations (MariaDB)",
            "<=",
            0,
            "seats",
            "§2-3 S2",
            ("checks", "seats", "seats_sold_twice"),
        ),
        Threshold(
            "seats_201_mismatched",
            "seats whose 201s ≠ their reservations",
            "<=",
            0,
            "seats",
            "§2-3 S2",
            ("checks", "seats", "seats_201_mismatched"),
        ),
        Threshold(
            "kafka_delivery_percent",
            "Kafka delivery (outbox → acked → sink)",
            ">=",
            100,
            "%",
            "§2-5, §2-3 S2/S3",
            ("checks", "kafka", "delivered_percent"),
        ),
        Threshold(
            "points_mismatches",
            "users whose points are not exact",
            "<=",
            0,
            "users",
            "§2-3 S3",
            ("checks", "points", "mismatched"),
        ),
        Threshold(
            "memory_growth_percent",
            "booking memory growth over the hold",
            "<",
            5,
            "%",
            "§2-3 S3",
            ("server", "memory", "growth_percent"),
            required=False,
        ),
        Threshold(
            "cache_hit_percent",
            "cache hit rate",
            ">=",
            95,
            "%",
            "§2-3 S4",
            ("client", "cache", "hit_rate_percent"),
        ),
        Threshold(
            "cached_read_p95_ms",
            "cached read p95",
            "<",
            100,
            "ms",
            "§2-3 S4",
            ("client", "cache", "cached_p95_ms"),
        ),
    )
}


def parse_overrides(options: list[str]) -> dict[str, float]:
    """`--threshold p95_ms=250` (repeatable) → {"p95_ms": 250.0}."""
    overrides = {}
    for option in options:
        name, _, raw = option.partition("=")
        name = name.strip()
        if name not in THRESHOLDS:
            raise ThresholdError(
                f"--threshold {option!r}: there is no threshold {name!r}. Known: "
                + ", ".join(THRESHOLDS)
                + "."
            )
        try:
            overrides[name] = float(raw)
        except ValueError:
            raise ThresholdError(
                f"--threshold {option!r}: write NAME=NUMBER, e.g. {name}="
                f"{THRESHOLDS[name].target:g}."
            ) from None
    return overrides


def chosen(names: tuple[str, ...], overrides: dict[str, float]) -> list[Threshold]:
    """The scenario's thresholds with the run's overrides; an override of a threshold the
    scenario lacks adds it."""
    wanted = list(names) + [n for n in overrides if n not in names]
    return [
        replace(THRESHOLDS[n], target=overrides[n]) if n in overrides else THRESHOLDS[n]
        for n in wanted
    ]


def describe_failure(result: dict[str, Any]) -> str:
    """`p95 latency 612 ms, target < 500 ms: over by 112 ms`."""
    if result["value"] is None:
        return (
            f"{result['name']} ({result['label']}): no data, target {result['op']} "
            f"{result['target']:g} {result['unit']}: nothing was measured to judge"
        )
    over = "over" if result["op"] in ("<", "<=") else "short"
    return (
        f"{result['name']} ({result['label']}): {result['value']:.4g} {result['unit']}, "
        f"target {result['op']} {result['target']:g} {result['unit']}: {over} by "
        f"{result['by']:.4g} {result['unit']}"
    )
