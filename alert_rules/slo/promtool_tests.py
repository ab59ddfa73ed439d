"""promtool tests for every window pair of every tier: traffic just over and just under the
threshold, a recovery that resolves the alert, and the minimum-traffic guard. Expected results
come from the same window arithmetic as the rules, worked out here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from alert_rules.slo.rules import RULES, alert_rule
from alert_rules.slo.spec import (
    TIERS,
    WINDOW_PAIRS,
    Slo,
    Tier,
    WindowPair,
    duration,
    minutes,
    number,
)

# Test traffic per minute: large and round, so that every counter value is a whole number. Floats
# summed by promtool's `a+bxN` then meet the next segment's start exactly; otherwise a start a hair
# below the running sum reads as a counter reset and rate() jumps.
TEST_REQUESTS_PER_MINUTE = Decimal(100000)


@dataclass(frozen=True)
class Scenario:
    """Constant traffic from minute 0; `burn * budget` of it bad in [errors_from, errors_to)."""

    title: str
    requests_per_minute: Decimal
    burn: Decimal
    errors_from: int
    errors_to: int
    end: int
    step: int

    def error_ratio(self, slo: Slo, window: int, at: int) -> Decimal:
        start = max(0, at - window)
        overlap = max(0, min(at, self.errors_to) - max(start, self.errors_from))
        return self.burn * slo.budget * overlap / max(1, min(window, at))

    def request_rate(self, window: int, at: int) -> Decimal:
        # rate() over a window longer than the data divides the increase by the whole window.
        return self.requests_per_minute / 60 * min(window, at) / window

    def pair_true(self, slo: Slo, pair: WindowPair, at: int) -> bool:
        threshold = pair.factor * slo.budget
        long_w, short_w = minutes(pair.long), minutes(pair.short)
        return (
            self.error_ratio(slo, long_w, at) > threshold
            and self.error_ratio(slo, short_w, at) > threshold
            and self.request_rate(long_w, at) >= slo.minimum_request_rate
        )

    def tier_true(self, slo: Slo, tier: str, at: int) -> bool:
        return any(self.pair_true(slo, p, at) for p in WINDOW_PAIRS if p.tier == tier)

    def firing(self, slo: Slo, tier: Tier, at: int) -> bool:
        """True once the tier's condition has held at every evaluation for its `for`."""
        held_since = at - tier.for_minutes
        if held_since < 0:
            return False
        return all(self.tier_true(slo, tier.name, t) for t in range(held_since, at + 1, self.step))

    def series(self, slo: Slo) -> list[dict[str, str]]:
        per_step = self.requests_per_minute * self.step
        bad_per_step = per_step * self.burn * slo.budget
        steps = self.end // self.step

        def bad_at(i: int) -> Decimal:
            errors_minutes = max(0, min(i * self.step, self.errors_to) - self.errors_from)
            return bad_per_step * Decimal(errors_minutes) / self.step

        total = [per_step * i for i in range(steps + 1)]
        bad = [bad_at(i) for i in range(steps + 1)]
        good = [t - b for t, b in zip(total, bad, strict=True)]
        out = []
        names = slo.test_series
        if "bad" in names:
            out.append({"series": names["bad"], "values": compact(bad)})
        if "total" in names:
            out.append({"series": names["total"], "values": compact(total)})
        out.append({"series": names["good"], "values": compact(good)})
        return out


def compact(values: list[Decimal]) -> str:
    """promtool's expanding notation: runs of equal steps become `start+stepxN`."""
    inexact = [v for v in values if v * 2 % 1]
    if inexact:
        raise ValueError(f"test counter values must be whole (or halves), not {inexact[0]}")
    parts: list[str] = []
    i = 0
    while i < len(values):
        j = i
        step = values[i + 1] - values[i] if i + 1 < len(values) else Decimal(0)
        while j + 1 < len(values) and values[j + 1] - values[j] == step:
            j += 1
        if j == i:
            parts.append(number(values[i]))
        else:
            parts.append(f"{number(values[i])}+{number(step)}x{j - i}")
        i = j + 1
    return " ".join(parts)


# How much traffic history each pair's scenarios have: long enough that the errors of the last
# `long` window are diluted below the other tiers' thresholds in their longer windows, so each
# test proves its own pair's threshold (checked in `check_scenario`).
HISTORY = {"1h": "6h", "6h": "12h", "1d": "3d", "3d": "12h"}


def scenarios(slo: Slo, tiers: dict[str, Tier]) -> list[Scenario]:
    found = []
    for pair in WINDOW_PAIRS:
        long_w = minutes(pair.long)
        history = minutes(HISTORY[pair.long])
        # Resolving takes every short window of the tier to be clean, plus the evaluations.
        clean_after = max(minutes(p.short) for p in WINDOW_PAIRS if p.tier == pair.tier) + 20
        # 1-minute steps only where a 5-minute window is read; 5-minute steps elsewhere keep
        # promtool's run short (it evaluates every rule at every step).
        step = 1 if minutes(pair.short) < 30 else 5
        label = f"{number(pair.factor)}x over {pair.long}/{pair.short}"
        for title, margin, end in (
            ("just over", Decimal("1.1"), history),
            ("just under", Decimal("0.9"), history),
            (
                f"resolves once the {pair.tier} short windows are clean",
                Decimal("1.1"),
                history + clean_after,
            ),
        ):
            scenario = Scenario(
                f"{label}, {title}",
                TEST_REQUESTS_PER_MINUTE,
                pair.factor * margin,
                max(0, history - long_w),
                history,
                end,
                step,
            )
            check_scenario(slo, tiers[pair.tier], pair, scenario, margin > 1 and end == history)
            found.append(scenario)
    # Minimum-traffic guard: half the requests failing, just under and just over the floor.
    floor = slo.minimum_request_rate * 60
    for title, per_minute in (("under", floor * Decimal("0.5")), ("over", floor * Decimal("2"))):
        found.append(
            Scenario(
                f"traffic {title} the {number(floor / 60)}/s guard, half the requests failing",
                per_minute,
                Decimal("0.5") / slo.budget,
                60,
                120,
                120,
                1,
            )
        )
    return found


def check_scenario(
    slo: Slo, tier: Tier, pair: WindowPair, scenario: Scenario, should_fire: bool
) -> None:
    """Refuse a scenario that would not prove what its title says."""
    fires = scenario.firing(slo, tier, scenario.end)
    if fires != should_fire:
        raise ValueError(f"{slo.name}: scenario {scenario.title!r} does not isolate its pair")
    if should_fire and not scenario.pair_true(slo, pair, scenario.end):
        raise ValueError(f"{slo.name}: scenario {scenario.title!r} fires through another pair")


def expected_alerts(
    slo: Slo, tiers: dict[str, Tier], scenario: Scenario, at: int
) -> list[dict[str, Any]]:
    expected = []
    for tier in (tiers[name] for name in TIERS):
        if not scenario.firing(slo, tier, at):
            continue
        rule = alert_rule(slo, tier)
        # The value is the factor of the first window pair that holds (`or` keeps its left).
        pair = next(
            p for p in WINDOW_PAIRS if p.tier == tier.name and scenario.pair_true(slo, p, at)
        )
        annotations = dict(rule["annotations"])
        annotations["description"] = annotations["description"].replace(
            "{{ $value }}", number(pair.factor)
        )
        expected.append({"exp_labels": rule["labels"], "exp_annotations": annotations})
    return expected


def eval_times(slo: Slo, tiers: dict[str, Tier], scenario: Scenario) -> list[int]:
    """The end, plus for each tier the evaluation just before it fires (its `for` not yet up)."""
    times = {scenario.end}
    for tier in tiers.values():
        fires = [
            t for t in range(0, scenario.end + 1, scenario.step) if scenario.firing(slo, tier, t)
        ]
        if fires:
            times.add(fires[0] - scenario.step)
    return sorted(t for t in times if t >= 0)


def test_document(tiers: dict[str, Tier], slos: list[Slo], step: int) -> dict[str, Any]:
    groups = []
    for slo in slos:
        for scenario in scenarios(slo, tiers):
            if scenario.step != step:
                continue
            groups.append(
                {
                    "name": f"{slo.name}: {scenario.title}",
                    "interval": duration(scenario.step),
                    "input_series": scenario.series(slo),
                    "alert_rule_test": [
                        {
                            "eval_time": duration(at),
                            "alertname": slo.alert,
                            "exp_alerts": expected_alerts(slo, tiers, scenario, at),
                        }
                        for at in eval_times(slo, tiers, scenario)
                    ],
                }
            )
    return {"rule_files": [RULES.name], "evaluation_interval": duration(step), "tests": groups}
