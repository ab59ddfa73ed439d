"""`soundcheck demo`: a short game day on the real stack, in a few minutes.

1. A ticket opening: a short `token-spike` (plan S1) through `soundcheck load`: users rush the
   waiting queue for tokens; its report is written like any load run's.
2. The `redis-down` drill with its CI settings: Redis stopped under booking traffic; the service
   books on in degraded mode; RedisDown pages PagerDuty (the sandbox) with its runbook; Redis is
   started again whatever happens; nothing lost, no seat sold twice; its report.
3. The checks, and where to open both reports and the sandbox page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from loadtest.run import LoadRunError, RunOptions, load_run
from soundcheck.drill.definition import load_drill
from soundcheck.drill.engine import DrillOptions, run_drill
from soundcheck.stack.stack import Stack

DEMO_DRILL = "redis-down"
DRILL_CHECKS = (
    "repaired",
    "detect: RedisDown paged",
    "alerts resolved",
    "no double booking",
    "no event lost",
    "degraded mode serving",
)


class DemoError(RuntimeError):
    """The demo could not do what it shows; the message says what and what to do."""


@dataclass
class DemoResult:
    opening: dict[str, Any]
    drill: dict[str, Any]
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.checks)

    @property
    def page(self) -> dict[str, Any] | None:
        """The RedisDown trigger PagerDuty received during the drill (its links)."""
        pages = self.drill["timeline"]["pages"]
        return next(
            (p for p in pages if p["alertname"] == "RedisDown" and p["kind"] == "trigger"), None
        )


def opening_checks(summary: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """The opening's functional thresholds (errors, the queue's lock); speed is the load
    report's to judge, not a reason for the demo to fail on a busy machine."""
    checks = []
    for t in summary["thresholds"]:
        if t["name"] == "error_rate_percent" or (
            t["name"] == "lock_success_percent" and t["value"] is not None
        ):
            checks.append((f"opening: {t['label']}", bool(t["passed"]), f"{t['value']}"))
    return checks


def drill_checks(journal: dict[str, Any]) -> list[tuple[str, bool, str]]:
    found = {c["name"]: c for c in journal["checks"]}
    checks = []
    for name in DRILL_CHECKS:
        c = found.get(name)
        checks.append(
            (
                f"drill: {name}",
                c is not None and c["verdict"] == "Pass",
                "not judged" if c is None else f"{c['measured']} (target {c['target']})",
            )
        )
    return checks


def run_demo(stack: Stack, console: Console, scale: float = 0.2, users: float = 0.1) -> DemoResult:
    """The whole demo against a running stack; returns what the checks found."""
    console.print(
        "\n[bold]Ticket opening[/bold]: a short token-spike (plan S1): users rush the waiting "
        f"queue (`soundcheck load run token-spike --scale {scale:g} --users {users:g}`)."
    )
    try:
        opening = load_run(
            RunOptions(
                scenario="token-spike",
                scale=scale,
                users=users,
                command=f"soundcheck load run token-spike --scale {scale:g} --users {users:g}",
            ),
            stack.settings,
        )
    except LoadRunError as error:
        raise DemoError(str(error)) from None
    client = opening["client"]
    console.print(
        f"  {client['all_requests']} requests, {client['rps']:.0f} timed req/s, "
        f"p95 {client['p95_ms'] or 0:.0f} ms, errors {client['error_rate_percent'] or 0:.2f} %; "
        f"report: {opening['run']['folder']}/report.html",
        highlight=False,
    )
    console.print(
        "\n[bold]Failure drill[/bold]: redis-down (`soundcheck drill redis-down --short`): Redis "
        "is stopped while users book; the service must keep booking and someone must be paged."
    )
    journal = run_drill(
        stack,
        load_drill(DEMO_DRILL).short(),
        DrillOptions(
            command="soundcheck drill redis-down --short",
            only_expected_alerts=True,
            settings_name="short",
        ),
        lambda line: console.print(f"  {line}", highlight=False, soft_wrap=True),
    )
    result = DemoResult(opening, journal)
    result.checks = opening_checks(opening) + drill_checks(journal)
    console.print("\n[bold]Checks[/bold]")
    for name, ok, text in result.checks:
        console.print(
            f"  {'[green]ok[/]' if ok else '[red]FAILED[/]'} {name}: {text}", highlight=False
        )
    if result.page is not None:
        console.print("  the page's links:")
        for text, href in result.page["links"].items():
            console.print(f"    {text}: {href}", highlight=False)
    return result
