"""After a drill: what it left behind (parts not running, alerts still firing), its traffic
figures, what was lost (seats, outbox events, pages, log lines), its collateral alerts and when
it had recovered, all written into the journal."""

from __future__ import annotations

import time
from typing import Any

from soundcheck.drill import journal as journals
from soundcheck.drill.actions import DrillContext
from soundcheck.drill.definition import Drill
from soundcheck.drill.log_loss import acknowledged_lines_check
from soundcheck.drill.loss import loss_figures
from soundcheck.drill.measure import traffic_figures
from soundcheck.drill.polling import wait_for
from soundcheck.drill.steady import problems

HEALTHY_WITHIN_SECONDS = 60.0


def left_behind(context: DrillContext) -> tuple[list[str], list[str]]:
    """What keeps the stack from its steady state, and which of that is a part not running. A
    part is asked again for up to HEALTHY_WITHIN_SECONDS: one probe's 1 s timeout on a loaded
    machine (Elasticsearch just restarted) is not a sick part."""
    left: list[str] = []
    unhealthy: list[str] = []

    def healthy() -> bool:
        nonlocal left, unhealthy
        try:
            left = problems(context.stack, context.sandbox, ())
        except Exception as error:
            left = [str(error)]
        unhealthy = [p for p in left if "firing" not in p and "active" not in p]
        return not unhealthy

    wait_for(healthy, HEALTHY_WITHIN_SECONDS, every=2.0)
    return left, unhealthy


def recovered_at(j: dict[str, Any], drill: Drill) -> float | None:
    """The last of: the repair, answers good again, each expected alert and page resolved."""
    ends = [j["window"]["repair_finished"]]
    if j["traffic"] is not None:
        ends.append(j["traffic"]["good_again_at"])
    for name in drill.expect.alerts:
        entry = j["timeline"]["alerts"].get(name, {})
        if entry.get("pending") and not entry.get("resolved"):
            return None
        ends += [entry.get("resolved"), entry.get("page_resolved")]
    found = [e for e in ends if e is not None]
    return max(found) if found and j["recovery"]["healthy"] else None


def measure(
    j: dict[str, Any], drill: Drill, client: dict[str, Any] | None, context: DrillContext
) -> None:
    window = j["window"]
    fault = (window["fault_started"], window["repair_finished"] or time.time())
    left, unhealthy = left_behind(context)
    j["recovery"]["healthy"] = not unhealthy
    j["recovery"]["unhealthy"] = "; ".join(unhealthy) or None
    j["steady_states"]["after"] = {"met": not left, "problems": left, "at": time.time()}
    if client is not None:
        j["traffic"] = traffic_figures(client, fault)
    j["loss"] = loss_figures(client, j["timeline"]["pages"], drill.expect.alerts)
    if context.markers.answered:
        lines = acknowledged_lines_check(context.markers, j["run"])
        j["loss"]["log_lines"] = lines["measured"]
        j["probe_checks"].append(lines)
    j["collateral"] = journals.collateral(drill, j["timeline"]["alerts"])
    j["recovery"]["recovered_at"] = recovered_at(j, drill)
