"""The Prometheus rules of each SLO: recording rules (error ratio per window, request rate per long
window, objective and budget) and one multi-window burn-rate alert per tier.
"""

from __future__ import annotations

from typing import Any

from alert_rules.catalog import SOURCE_ROUTER_URL
from alert_rules.slo.spec import (
    HERE,
    TIERS,
    WINDOW_PAIRS,
    Slo,
    Tier,
    WindowPair,
    duration,
    minutes,
    number,
)

RULES = HERE / "slo.rules.yml"
RUNBOOK_BASE = SOURCE_ROUTER_URL + "runbooks/"


def windows() -> list[str]:
    found = {w for p in WINDOW_PAIRS for w in (p.long, p.short)}
    return sorted(found, key=minutes)


def recording_rules(slo: Slo) -> list[dict[str, Any]]:
    labels = {"slo": slo.name, "service": slo.service}
    rules: list[dict[str, Any]] = [
        {
            "record": "slo:objective:ratio",
            "expr": f"vector({number(slo.objective)})",
            "labels": labels,
        },
        {
            "record": "slo:error_budget:ratio",
            "expr": f"vector({number(slo.budget)})",
            "labels": labels,
        },
    ]
    for window in windows():
        rules.append(
            {
                "record": f"slo:sli_error:ratio_rate{window}",
                "expr": f"{slo.errors_rate(window)}\n/\n{slo.requests_rate(window)}",
                "labels": labels,
            }
        )
    for window in sorted({p.long for p in WINDOW_PAIRS}, key=minutes):
        rules.append(
            {
                "record": f"slo:sli_requests:rate{window}",
                "expr": slo.requests_rate(window),
                "labels": labels,
            }
        )
    return rules


def pair_condition(slo: Slo, pair: WindowPair) -> str:
    sel, budget, factor = slo.selector(), number(slo.budget), number(pair.factor)
    # The alert's value is the factor of the pair that holds, so a page says which one tripped.
    return (
        f"0 * (\n  slo:sli_error:ratio_rate{pair.long}{{{sel}}} / {budget} > {factor}\n"
        f"  and slo:sli_error:ratio_rate{pair.short}{{{sel}}} / {budget} > {factor}\n"
        f"  and slo:sli_requests:rate{pair.long}{{{sel}}} >= "
        f"{number(slo.minimum_request_rate)}\n) + {factor}"
    )


def alert_rule(slo: Slo, tier: Tier) -> dict[str, Any]:
    pairs = [p for p in WINDOW_PAIRS if p.tier == tier.name]
    described = " or ".join(f"{number(p.factor)}x over {p.long} and {p.short}" for p in pairs)
    return {
        "alert": slo.alert,
        "expr": "\nor\n".join(pair_condition(slo, p) for p in pairs),
        "for": duration(tier.for_minutes),
        "labels": {
            "priority": tier.priority,
            "severity": tier.severity,
            "service": slo.service,
            "component": "slo",
            "slo": slo.name,
            "tier": tier.name,
        },
        "annotations": {
            "summary": f"{slo.name}: the {slo.objective_percent} % objective's error budget "
            f"burns too fast ({tier.name})",
            "description": (
                f"{slo.description} The 30-day error budget ({number(slo.budget * 100)} % of "
                "requests) is being spent over {{ $value }} times as fast as it lasts, in both "
                f"windows of a pair ({described})."
            ),
            "runbook_url": RUNBOOK_BASE + slo.alert,
            "dashboard_url": slo.dashboard_url,
        },
    }


def rules_document(tiers: dict[str, Tier], slos: list[Slo]) -> dict[str, Any]:
    groups = []
    for slo in slos:
        groups.append(
            {"name": f"slo-{slo.name}-sli", "interval": "30s", "rules": recording_rules(slo)}
        )
        groups.append(
            {
                "name": f"slo-{slo.name}-alerts",
                "interval": "30s",
                "rules": [alert_rule(slo, tiers[name]) for name in TIERS],
            }
        )
    return {"groups": groups}
