"""Verdicts against the plan's targets (§7-1) and the resilience score: every check has a weight
(1-10) and a mode saying when it is judged (Litmus: SOT start of test, OnChaos during the fault,
EOT after repair, Continuous whole run); the score is Σ weight·passed / Σ weight over the checks
that could be judged, so runs can be compared."""

from __future__ import annotations

from typing import Any

from soundcheck.drill.definition import Drill

PASS, FAIL, NA = "Pass", "Fail", "N/A"
AVAILABILITY_TARGET = 99.9  # percent, outside the fault window (plan §7-1)
DEGRADED_TARGET = 95.0  # percent of answers good while Redis is down: degraded mode serves


def check(
    name: str, mode: str, weight: int, ok: bool | None, measured: Any, target: str
) -> dict[str, Any]:
    return {
        "name": name,
        "mode": mode,
        "weight": weight,
        "verdict": NA if ok is None else PASS if ok else FAIL,
        "measured": measured,
        "target": target,
    }


def since(later: float | None, earlier: float) -> float | None:
    return None if later is None else round(later - earlier, 1)


def detection_checks(
    drill: Drill, first: dict[str, Any], paged_after: float | None, fault_at: float
) -> list[dict[str, Any]]:
    """Fault → page within the plan's 30 s; where the paging path is the fault (detect_by
    firing), fault → the alert firing at Alertmanager, and the page later, within page_within."""
    expect, name = drill.expect, drill.expect.alerts[0]
    target = f"≤ {expect.detect_within:g} s (goal ≤ 20 s)"
    if expect.detect_by == "page":
        ok = paged_after is not None and paged_after <= expect.detect_within
        return [check(f"detect: {name} paged", "OnChaos", 10, ok, paged_after, target)]
    fired_after = since(first.get("alertmanager"), fault_at)
    fired = fired_after is not None and fired_after <= expect.detect_within
    paged = paged_after is not None and paged_after <= expect.page_within
    return [
        check(f"detect: {name} firing", "OnChaos", 10, fired, fired_after, target),
        check(
            f"{name} paged once the paging path is back",
            "OnChaos",
            5,
            paged,
            paged_after,
            f"≤ {expect.page_within:g} s after the fault",
        ),
    ]


def judge(drill: Drill, journal: dict[str, Any]) -> list[dict[str, Any]]:
    window = journal["window"]
    alerts = journal["timeline"]["alerts"]
    expect = drill.expect
    fault_at, repair_at = window["fault_started"], window["repair_started"]
    first = alerts.get(expect.alerts[0], {}) if expect.alerts else {}
    paged_after = since(first.get("paged"), fault_at) if first else None
    traffic, loss = journal.get("traffic"), journal["loss"]
    recovered = journal["recovery"]["recovered_at"]
    checks = [
        check(
            "repaired",
            "EOT",
            10,
            journal["repair"]["ok"],
            journal["repair"]["error"] or "ok",
            "every rollback ran",
        ),
        check(
            "stack healthy afterwards",
            "EOT",
            5,
            journal["recovery"]["healthy"],
            journal["recovery"]["unhealthy"] or "all running",
            "every part running",
        ),
    ]
    if expect.alerts:
        checks += detection_checks(drill, first, paged_after, fault_at)
        resolved = all(
            alerts.get(a, {}).get("resolved") and alerts.get(a, {}).get("page_resolved")
            for a in expect.alerts
        )
        checks.append(
            check(
                "alerts resolved",
                "EOT",
                5,
                bool(resolved),
                "yes" if resolved else "no",
                "resolved in Prometheus and PagerDuty",
            )
        )
        counts = loss["pages"]
        once = all(c["triggers"] == 1 and c["resolves"] == 1 for c in counts.values())
        checks.append(
            check(
                "each page delivered once, resolved once",
                "Continuous",
                5,
                once,
                counts,
                "1 trigger and 1 resolve per alert",
            )
        )
    recovery = since(recovered, repair_at)
    checks.append(
        check(
            "recovery",
            "EOT",
            8,
            recovery is not None and recovery <= expect.recover_within,
            recovery,
            f"≤ {expect.recover_within:g} s (repair → healthy and resolved)",
        )
    )
    sold_twice = loss["seats_sold_twice"]
    checks.append(
        check(
            "no double booking",
            "Continuous",
            10,
            None if sold_twice is None else sold_twice == 0,
            sold_twice,
            "0 seats",
        )
    )
    outbox = loss["outbox"]
    lost = None if outbox is None else outbox["unpublished"] + outbox["payments_not_sunk_once"]
    checks.append(
        check(
            "no event lost",
            "Continuous",
            10,
            None if lost is None else lost == 0,
            lost,
            "0 outbox events undelivered",
        )
    )
    if traffic is not None:
        outside = traffic["outside"]["availability_percent"]
        checks.append(
            check(
                "availability outside the fault window",
                "Continuous",
                6,
                None if outside is None else outside >= AVAILABILITY_TARGET,
                outside,
                f"≥ {AVAILABILITY_TARGET} %",
            )
        )
        if expect.degraded_mode:
            inside = traffic["inside"]["availability_percent"]
            checks.append(
                check(
                    "degraded mode serving",
                    "OnChaos",
                    8,
                    None if inside is None else inside >= DEGRADED_TARGET,
                    inside,
                    f"≥ {DEGRADED_TARGET:g} % answered during the fault",
                )
            )
    checks += journal.get("probe_checks", [])
    false_pages = sorted(journal["collateral"]["paged_unexpected"])
    checks.append(
        check(
            "no unexpected page",
            "Continuous",
            3,
            not false_pages,
            false_pages,
            "only the expected alerts page",
        )
    )
    return checks


def score(checks: list[dict[str, Any]]) -> float | None:
    judged = [c for c in checks if c["verdict"] != NA]
    total = sum(int(c["weight"]) for c in judged)
    if not total:
        return None
    passed = sum(int(c["weight"]) for c in judged if c["verdict"] == PASS)
    return round(100.0 * passed / total, 1)


def verdict(checks: list[dict[str, Any]], status: str) -> str:
    if status == "interrupted":
        return "Stopped"
    return PASS if all(c["verdict"] != FAIL for c in checks) else FAIL
