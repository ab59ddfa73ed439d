"""Inhibition proven on the running Alertmanager (amtool cannot evaluate it): post alerts to its
API and read back which are suppressed. The alerts carry `soundcheck_selftest="true"`, which the
config routes to a receiver that notifies nobody."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.polling import eventually


def alert(name: str, **labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, "soundcheck_selftest": "true", **labels},
        "annotations": {"summary": "inhibition self-test"},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=5)).isoformat(),
    }


def post(url: str, alerts: list[dict[str, Any]]) -> None:
    answer = httpx.post(f"{url}/api/v2/alerts", json=alerts, timeout=10)
    assert answer.status_code == 200, answer.text


def states(url: str, run: str) -> dict[str, dict[str, Any]]:
    alerts = httpx.get(f"{url}/api/v2/alerts", params={"filter": f'run="{run}"'}, timeout=10).json()
    return {a["labels"]["alertname"]: a["status"] for a in alerts}


def resolve(url: str, alerts: list[dict[str, Any]]) -> None:
    ended = datetime.now(UTC).isoformat()
    post(url, [{**a, "endsAt": ended} for a in alerts])


def test_p0_mutes_the_p2_of_its_service_but_not_of_another(alertmanager_url: str) -> None:
    run = uuid.uuid4().hex
    service = f"selftest-{run[:8]}"
    alerts = [
        alert("RedisDown", run=run, priority="P0", severity="critical", service=service),
        alert("CacheHitRateLow", run=run, priority="P2", severity="warning", service=service),
        alert("DegradedModeActive", run=run, priority="P1", severity="high", service=service),
        alert("ExporterDown", run=run, priority="P2", severity="warning", service="elsewhere"),
        alert("Watchdog", run=run, priority="P3", severity="none", service=service),
    ]
    post(alertmanager_url, alerts)
    try:
        seen = eventually(
            lambda: (
                (s := states(alertmanager_url, run)).get("CacheHitRateLow", {}).get("state")
                == "suppressed"
                and s
            ),
            30,
            "the P2 suppressed by the P0 of the same service",
        )
        assert seen["RedisDown"]["state"] == "active"
        assert seen["DegradedModeActive"]["state"] == "suppressed"
        assert seen["ExporterDown"]["state"] == "active", "another service's P2 is not muted"
        assert seen["Watchdog"]["state"] == "active", "the Watchdog is never muted"
        assert seen["CacheHitRateLow"]["inhibitedBy"], "names the P0 that mutes it"
    finally:
        resolve(alertmanager_url, alerts)


def test_paging_slo_tier_mutes_its_ticket_tier(alertmanager_url: str) -> None:
    run = uuid.uuid4().hex
    slo = f"selftest-{run[:8]}"
    labels = {"run": run, "service": f"svc-{run[:8]}", "slo": slo}
    page = alert("BookingAvailabilityBudgetBurn", tier="page", priority="P1", **labels)
    ticket = alert("BookingAvailabilityBudgetBurn", tier="ticket", priority="P3", **labels)
    other = alert(
        "BookingLatencyBudgetBurn", tier="ticket", priority="P3", **{**labels, "slo": slo + "-x"}
    )
    post(alertmanager_url, [page, ticket, other])
    try:

        def tiers() -> dict[tuple[str, str], str] | None:
            alerts = httpx.get(
                f"{alertmanager_url}/api/v2/alerts", params={"filter": f'run="{run}"'}, timeout=10
            ).json()
            found = {
                (a["labels"]["slo"], a["labels"]["tier"]): a["status"]["state"] for a in alerts
            }
            return found if found.get((slo, "ticket")) == "suppressed" else None

        found = eventually(tiers, 30, "the ticket tier suppressed by the page tier")
        assert found[(slo, "page")] == "active"
        assert found[(slo + "-x", "ticket")] == "active", "another SLO's ticket is not muted"
    finally:
        resolve(alertmanager_url, [page, ticket, other])
