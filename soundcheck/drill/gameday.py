"""A game day: several drills one after another (`soundcheck drill all`) and one report, the
plan's §7-1 table (before → target → measured) and one row per drill with its verdicts and a link
to its own report: results/<time>-gameday/{gameday.json, report.html}."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from soundcheck.drill.definition import drill_names, load_drill
from soundcheck.drill.engine import DrillOptions, run_drill
from soundcheck.drill.gameday_report import render_game_day
from soundcheck.stack.stack import Stack

SCHEMA = "soundcheck.drill.gameday/1"


def check_value(journal: dict[str, Any], prefix: str) -> Any:
    for check in journal["checks"]:
        if check["name"].startswith(prefix):
            return check["measured"]
    return None


def drill_row(journal: dict[str, Any], folder: Path) -> dict[str, Any]:
    traffic = journal.get("traffic") or {}
    return {
        "drill": journal["drill"],
        "title": journal["title"],
        "failure_point": journal["failure_point"],
        "status": journal["status"],
        "verdict": journal["verdict"],
        "score": journal["score"],
        "expected_alert": (journal["expect"]["alerts"] or [None])[0],
        "paged_after": check_value(journal, "detect:"),
        "recovery": check_value(journal, "recovery"),
        "failures_inside": (traffic.get("inside") or {}).get("failures"),
        "availability_outside": (traffic.get("outside") or {}).get("availability_percent"),
        "lost": check_value(journal, "no event lost"),
        "sold_twice": check_value(journal, "no double booking"),
        "false_pages": journal["collateral"]["paged_unexpected"],
        "failed_checks": [c["name"] for c in journal["checks"] if c["verdict"] == "Fail"],
        "report": os.path.relpath(Path(journal["folder"]) / "report.html", folder),
        "journal": str(Path(journal["folder"]) / "journal.json"),
    }


def measured_plan_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plan's §7-1 rows with what the drills measured (None: no drill measured it)."""
    pages = [r["paged_after"] for r in rows if r["paged_after"] is not None]
    recoveries = [r["recovery"] for r in rows if r["recovery"] is not None]
    availability = [
        r["availability_outside"] for r in rows if r["availability_outside"] is not None
    ]
    kafka = next((r for r in rows if r["drill"] == "kafka-down"), None)
    failover = next((r for r in rows if r["drill"] == "redis-failover"), None)
    pool = next((r for r in rows if r["drill"] == "db-pool-exhaustion"), None)

    def seconds(values: list[float]) -> str | None:
        if not values:
            return None
        return f"median {statistics.median(values):.1f} s, worst {max(values):.1f} s"

    return [
        {
            "metric": "availability (outside the fault)",
            "before": "95 % (estimate)",
            "target": "99.9 %",
            "measured": f"lowest {min(availability):.3f} %" if availability else None,
            "met": bool(availability) and min(availability) >= 99.9,
        },
        {
            "metric": "time to detect (fault → page; → alert firing where PagerDuty is the fault)",
            "before": "5 to 10 min",
            "target": "30 s",
            "measured": seconds(pages),
            "met": bool(pages) and len(pages) == len(rows) and max(pages) <= 30,
        },
        {
            "metric": "time to recover (MTTR)",
            "before": "30 min",
            "target": "5 min",
            "measured": seconds(recoveries),
            "met": bool(recoveries) and max(recoveries) <= 300,
        },
        {
            "metric": "Redis single point of failure",
            "before": "100 %",
            "target": "0 % (Sentinel)",
            "measured": None if failover is None else failover["verdict"],
            "met": None if failover is None else failover["verdict"] == "Pass",
        },
        {
            "metric": "Kafka events lost during a fault",
            "before": "5 %",
            "target": "0 % (outbox)",
            "measured": None
            if kafka is None or kafka["lost"] is None
            else f"{kafka['lost']} events",
            "met": None if kafka is None or kafka["lost"] is None else kafka["lost"] == 0,
        },
        {
            "metric": "DB connection pool exhausted",
            "before": "2 to 3 a week",
            "target": "0 to 1 a month",
            # A frequency only production can count; the drill says how it is met when it comes.
            "measured": None
            if pool is None
            else f"drill: paged after {pool['paged_after']} s, "
            f"{pool['failures_inside']} requests refused fast",
            "met": None,
        },
    ]


def game_day_summary(journals: list[dict[str, Any]], folder: Path, command: str) -> dict[str, Any]:
    rows = [drill_row(j, folder) for j in journals]
    scores = [r["score"] for r in rows if r["score"] is not None]
    return {
        "schema": SCHEMA,
        "started": min((j["started"] for j in journals), default=None),
        "ended": max((j["ended"] for j in journals), default=None),
        "command": command,
        "drills": rows,
        "plan": measured_plan_table(rows),
        "score": round(statistics.mean(scores), 1) if scores else None,
        "passed": bool(rows) and all(r["verdict"] == "Pass" for r in rows),
    }


def write_game_day(journals: list[dict[str, Any]], folder: Path, command: str) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    summary = game_day_summary(journals, folder, command)
    (folder / "gameday.json").write_text(json.dumps(summary, indent=2, default=str))
    (folder / "report.html").write_text(render_game_day(summary))
    summary["folder"] = str(folder)
    return summary


def run_game_day(
    stack: Stack,
    names: list[str] | None,
    short: bool,
    options: DrillOptions,
    say: Callable[[str], None],
) -> dict[str, Any]:
    journals = []
    names = names or drill_names()
    # Error-budget alerts the game day's own faults raise stay firing long after each repair
    # (a caller that ran drills before, as the drill tests do, may say since when instead).
    options = replace(options, budget_alerts_since=options.budget_alerts_since or time.time())
    for index, name in enumerate(names, 1):
        drill = load_drill(name)
        say(f"[bold]game day {index}/{len(names)}: {name}[/bold] ({drill.title})")
        journal = run_drill(stack, drill.short() if short else drill, replace(options), say)
        say(f"{name}: verdict {journal['verdict']}, score {journal['score']} %")
        journals.append(journal)
        if journal["status"] == "interrupted":
            say("stopped: the remaining drills are not run")
            break
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return write_game_day(journals, options.results / f"{stamp}-gameday", options.command)
