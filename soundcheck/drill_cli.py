"""`soundcheck drill ...`: failure drills against the running stack (docs/drills.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from soundcheck.drill.definition import DrillError, drill_names, load_drill
from soundcheck.drill.engine import DEFAULT_RESULTS, DrillOptions, run_drill
from soundcheck.drill.gameday import run_game_day
from soundcheck.settings import load_settings
from soundcheck.stack.stack import Stack

console = Console()
errors = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    errors.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def list_drills() -> None:
    table = Table(title_justify="left")
    for column in ("drill", "failure point", "what", "expected alert"):
        table.add_column(column)
    for name in drill_names():
        d = load_drill(name)
        table.add_row(name, d.failure_point, d.title, ", ".join(d.expect.alerts) or "none")
    console.print(table)


def say(line: str) -> None:
    console.print(line, highlight=False, soft_wrap=True)


def print_game_day(summary: dict[str, Any]) -> None:
    table = Table(title="game day", title_justify="left")
    for column in ("drill", "verdict", "score %", "paged s", "recovered s", "failed checks"):
        table.add_column(column)
    for row in summary["drills"]:
        colour = {"Pass": "green", "Fail": "red"}.get(row["verdict"], "dim")
        table.add_row(
            row["drill"],
            f"[{colour}]{row['verdict']}[/]",
            str(row["score"]),
            str(row["paged_after"]),
            str(row["recovery"]),
            ", ".join(row["failed_checks"]) or "none",
        )
    console.print(table)
    for row in summary["plan"]:
        met = {None: "-", True: "[green]met[/]", False: "[red]missed[/]"}[row["met"]]
        say(
            f"  {row['metric']}: {row['before']} → {row['target']}: "
            f"{row['measured'] or 'not measured'} {met}"
        )
    say(f"game-day report: {summary['folder']}/report.html")


# A burn-rate alert raised by one drill's fault (its 5-minute short window, then `for`) stays
# firing for up to about 6 minutes after the repair: a game day waits that out between drills.
SETTLE_ONE = 180.0
SETTLE_GAME_DAY = 420.0


def default_settle(name: str) -> float:
    return SETTLE_GAME_DAY if name == "all" else SETTLE_ONE


def drill(
    name: Annotated[
        str, typer.Argument(help="a drill (see `soundcheck drill list`), `all` or `list`")
    ],
    short: Annotated[bool, typer.Option(help="CI settings: a short fault, low traffic")] = False,
    results: Annotated[Path, typer.Option(help="where run folders are written")] = DEFAULT_RESULTS,
    settle: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="seconds to wait for the steady state before refusing "
            f"(default {SETTLE_ONE:.0f}; {SETTLE_GAME_DAY:.0f} between a game day's drills)",
        ),
    ] = None,
    only: Annotated[
        str | None, typer.Option(help="with `all`: these drills only, e.g. redis-down,db-down")
    ] = None,
) -> None:
    """Run a failure drill (or `all`: a game day with one report): steady state, traffic,
    fault, repair (always), checks, verdicts."""
    if name == "list":
        list_drills()
        return
    options = DrillOptions(
        results=results,
        settle_seconds=settle if settle is not None else default_settle(name),
        command=" ".join(["soundcheck", *sys.argv[1:]]),
        settings_name="short" if short else "full",
    )
    if name == "all":
        names = [n.strip() for n in only.split(",")] if only else drill_names()
        try:
            for each in names:
                load_drill(each)
        except DrillError as error:
            raise fail(str(error)) from None
        summary = run_game_day(Stack(load_settings()), names, short, options, say)
        print_game_day(summary)
        if not summary["passed"]:
            raise typer.Exit(1)
        return
    try:
        found = load_drill(name)
    except DrillError as error:
        raise fail(str(error)) from None
    journal = run_drill(Stack(load_settings()), found.short() if short else found, options, say)
    for check in journal["checks"]:
        colour = {"Pass": "green", "Fail": "red"}.get(check["verdict"], "dim")
        say(
            f"  [{colour}]{check['verdict']:<4}[/] {check['name']}: {check['measured']} "
            f"(target {check['target']})"
        )
    say(f"verdict {journal['verdict']}, score {journal['score']} %, status {journal['status']}")
    say(f"report: {journal['folder']}/report.html")
    if journal["verdict"] != "Pass":
        raise typer.Exit(1)
