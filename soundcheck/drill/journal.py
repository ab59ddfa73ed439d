"""journal.json (schema `soundcheck.drill.journal/1`, docs/drill-journal.md): every timestamp
(epoch seconds), measurement and verdict of one drill run, in Chaos Toolkit's words where it has
them (status, steady_states, run, rollbacks) and Litmus's for the result (verdict, checks,
score)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from soundcheck.drill.definition import Drill

SCHEMA = "soundcheck.drill.journal/1"


def collateral(drill: Drill, alerts: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Every alert that went pending or paged during the drill and was not the one it expects:
    listed collateral (expected side effects) apart from the rest (false pages)."""
    others = {
        n: a
        for n, a in alerts.items()
        if n not in drill.expect.alerts and not a["before_the_drill"]
    }
    return {
        "fired": sorted(n for n, a in others.items() if a["firing"]),
        "paged": sorted(n for n, a in others.items() if a["paged"]),
        "paged_unexpected": sorted(
            n for n, a in others.items() if a["paged"] and n not in drill.expect.collateral
        ),
        "expected": list(drill.expect.collateral),
    }


def new_journal(drill: Drill, settings_name: str, command: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "drill": drill.name,
        "title": drill.title,
        "failure_point": drill.failure_point,
        "settings": settings_name,
        "command": command,
        "hold_seconds": drill.hold_seconds,
        "traffic_plan": {"scenario": drill.traffic.scenario, "rate": drill.traffic.rate},
        "expect": {
            "alerts": list(drill.expect.alerts),
            "collateral": list(drill.expect.collateral),
            "detect_within": drill.expect.detect_within,
            "page_within": drill.expect.page_within,
            "recover_within": drill.expect.recover_within,
            "degraded_mode": drill.expect.degraded_mode,
        },
        "status": "running",
        "phase": "steady state",
        "failed_step": None,
        "started": None,
        "ended": None,
        "steady_states": {"before": None, "after": None},
        "window": {
            "fault_started": None,
            "fault_ended": None,
            "repair_started": None,
            "repair_finished": None,
        },
        "setup": [],  # the drill's `setup` activities, before the traffic
        "run": [],
        "rollbacks": [],
        "teardown": [],  # the drill's `teardown` activities, after the traffic stopped
        "repair": {"ok": False, "error": None, "attempts": 0},
        "timeline": {"alerts": {}, "pages": [], "slack_posts": 0, "observer_errors": []},
        "traffic": None,
        "loss": {"seats_sold_twice": None, "outbox": None, "pages": {}, "log_lines": None},
        "recovery": {"healthy": False, "unhealthy": None, "recovered_at": None},
        "collateral": {"fired": [], "paged": [], "paged_unexpected": [], "expected": []},
        "probe_checks": [],  # checks measured by the drill's probes (a Finding) and log_loss.py
        "checks": [],
        "score": None,
        "verdict": "Awaited",
    }


def write(journal: dict[str, Any], folder: Path) -> Path:
    path = folder / "journal.json"
    path.write_text(json.dumps(journal, indent=2, default=str))
    return path
