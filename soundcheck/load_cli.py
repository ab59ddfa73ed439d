"""`soundcheck load ...`: the plan's load scenarios, capacity search, compare, workers.

The load runs in its own process (`python -m loadtest`): Locust patches the standard library for
gevent when imported, which must not happen to this command's own process."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import pymysql
import typer
from rich.console import Console
from rich.table import Table

from loadtest.capacity_run import capacity_run
from loadtest.compare import compare as compare_runs
from loadtest.generator_process import start_generator
from loadtest.results import ResultsError, read_summary
from loadtest.run import DEFAULT_RESULTS, LoadRunError, RunOptions, command_line, load_run
from loadtest.scenarios import SCENARIOS, UnknownScenario
from loadtest.stages import StageError, format_stages
from loadtest.thresholds import THRESHOLDS, ThresholdError, parse_overrides
from soundcheck.settings import load_settings

# The run prepares its data in, and checks it against, the stack's MariaDB.
NO_MARIADB = "MariaDB did not answer ({error}). Is the stack up? Start it with `soundcheck up`."

load_app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
console = Console()
errors = Console(stderr=True)

ScaleOption = Annotated[
    float, typer.Option(min=0.001, help="multiplies every stage's duration (CI: 0.05)")
]
UsersOption = Annotated[float, typer.Option(min=0.001, help="multiplies every stage's users")]
TargetOption = Annotated[
    str | None, typer.Option(help="booking service URL (default: this stack's)")
]
ThresholdOption = Annotated[
    list[str] | None,
    typer.Option("--threshold", help="NAME=VALUE, e.g. p95_ms=250 (repeatable); see `list`"),
]
ResultsOption = Annotated[Path, typer.Option(help="where run folders are written")]


def fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@load_app.command("list")
def list_scenarios() -> None:
    """The scenarios (plan §2-3) with their stages, think time and thresholds."""
    table = Table(title_justify="left")
    for column in ("scenario", "plan", "stages (duration:users)", "think", "thresholds"):
        table.add_column(column)
    for s in SCENARIOS.values():
        table.add_row(
            s.name,
            s.plan_id,
            format_stages(s.stages),
            f"{s.think_seconds:g} s",
            ", ".join(s.thresholds),
        )
    console.print(table)
    console.print(
        "thresholds: "
        + ", ".join(f"{t.name} {t.op} {t.target:g} {t.unit}" for t in THRESHOLDS.values()),
        highlight=False,
    )


def report(summary: dict[str, Any]) -> None:
    """The end of a run: each threshold against its target, and where the report is."""
    run = summary["run"]
    table = Table(title=f"{run['plan_id']} {run['scenario']}", title_justify="left")
    for column in ("threshold", "target", "measured", "result"):
        table.add_column(column)
    for t in summary["thresholds"]:
        value = "-" if t["value"] is None else f"{t['value']:.4g} {t['unit']}"
        style = {"passed": "green", "failed": "bold red"}.get(t["status"], "dim")
        table.add_row(
            t["label"],
            f"{t['op']} {t['target']:g} {t['unit']}",
            value,
            f"[{style}]{t['status']}[/]",
        )
    console.print(table)
    server = summary["server"]
    saturation = server.get("saturation") or {}
    first = saturation.get("first")
    console.print(
        "first to saturate: "
        + (f"{first['resource']} ({first['why']})" if first else "nothing saturated"),
        highlight=False,
    )
    for warning in [saturation.get("warning"), *summary.get("warnings", [])]:
        if warning:
            console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    if server.get("error"):
        console.print(f"[yellow]warning:[/] no server view: {server['error']}", highlight=False)
    console.print(f"report: {run['folder']}/report.html", highlight=False)
    for failure in summary["failures"]:
        errors.print(f"[red]threshold failed:[/] {failure}", highlight=False, soft_wrap=True)


@load_app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="token-spike, reservation-stress, ... or S1..S4")],
    scale: ScaleOption = 1.0,
    users: UsersOption = 1.0,
    target: TargetOption = None,
    think: Annotated[
        float | None, typer.Option(min=0, help="seconds between iterations (plan's default)")
    ] = None,
    stages: Annotated[
        str | None, typer.Option(help="e.g. 10s:100,30s:1000,1m:1000,10s:0 (plan's default)")
    ] = None,
    threshold: ThresholdOption = None,
    results: ResultsOption = DEFAULT_RESULTS,
    workers: Annotated[
        int, typer.Option(min=0, help="be a master: wait for this many `load worker`s")
    ] = 0,
    master_bind_host: Annotated[str, typer.Option(help="master: address to listen on")] = "*",
    master_bind_port: Annotated[int, typer.Option(help="master: port to listen on")] = 5557,
) -> None:
    """Run a scenario with the plan's stages; exits 1 when a threshold fails (as k6 does)."""
    try:
        options = RunOptions(
            scenario=scenario,
            scale=scale,
            users=users,
            target=target,
            think_seconds=think,
            stages=stages,
            thresholds=parse_overrides(threshold or []),
            results=results,
            workers=workers,
            master_bind_host=master_bind_host,
            master_bind_port=master_bind_port,
            command=command_line(["soundcheck", *sys.argv[1:]]),
        )
        summary = load_run(options, load_settings())
    except (UnknownScenario, StageError, ThresholdError, LoadRunError, ResultsError) as error:
        raise fail(str(error.args[0] if error.args else error)) from None
    except pymysql.MySQLError as error:
        raise fail(NO_MARIADB.format(error=error)) from None
    report(summary)
    if not summary["passed"]:
        raise typer.Exit(1)


def rates_from(text: str) -> list[float]:
    """`50:400:50` (start:stop:step) or `50,100,200` → the arrival rates of the steps."""
    try:
        if ":" in text:
            start, stop, step = (float(v) for v in text.split(":"))
            if step <= 0 or start <= 0 or stop < start:
                raise ValueError
            count = int((stop - start) / step + 1e-9) + 1
            return [start + i * step for i in range(count)]
        rates = [float(v) for v in text.split(",")]
        if any(r <= 0 for r in rates):
            raise ValueError
        return rates
    except ValueError:
        raise fail(
            f"--rates {text!r}: write START:STOP:STEP (e.g. 50:400:50) or a list (50,100,200) "
            "of arrivals per second, all above zero."
        ) from None


@load_app.command()
def capacity(
    scenario: Annotated[str, typer.Argument(help="default: token-spike (S1)")] = "token-spike",
    rates: Annotated[
        str, typer.Option(help="arrivals/s per step: START:STOP:STEP or a list")
    ] = "50:1000:50",
    step_seconds: Annotated[float, typer.Option(min=1, help="seconds per step")] = 15.0,
    max_in_flight: Annotated[
        int, typer.Option(min=1, help="arrivals waiting for an answer before more are dropped")
    ] = 1000,
    target: TargetOption = None,
    threshold: ThresholdOption = None,
    results: ResultsOption = DEFAULT_RESULTS,
) -> None:
    """Raise the arrival rate step by step (open model) until the SLA breaks; report the highest
    rate that held it."""
    try:
        options = RunOptions(
            scenario=scenario,
            target=target,
            thresholds=parse_overrides(threshold or []),
            results=results,
            rates=rates_from(rates),
            step_seconds=step_seconds,
            max_in_flight=max_in_flight,
            command=command_line(["soundcheck", *sys.argv[1:]]),
        )
        summary = capacity_run(options, load_settings())
    except (UnknownScenario, ThresholdError, LoadRunError) as error:
        raise fail(str(error.args[0] if error.args else error)) from None
    except pymysql.MySQLError as error:
        raise fail(NO_MARIADB.format(error=error)) from None
    table = Table(title=f"capacity of {summary['run']['scenario']}", title_justify="left")
    for column in ("offered/s", "answered/s", "dropped", "p95 ms", "p99 ms", "errors %", "held"):
        table.add_column(column, justify="right")
    for s in summary["capacity"]["steps"]:
        table.add_row(
            f"{s['rate']:g}",
            f"{s['achieved_rps']:.1f}",
            str(s["dropped"]),
            "-" if s["p95_ms"] is None else f"{s['p95_ms']:.0f}",
            "-" if s["p99_ms"] is None else f"{s['p99_ms']:.0f}",
            "-" if s["error_rate_percent"] is None else f"{s['error_rate_percent']:.2f}",
            "yes" if s["held"] else "[red]no[/]",
        )
    console.print(table)
    held = summary["capacity"]["max_rate_held"]
    console.print(
        f"highest arrival rate that held the SLA: {held:g}/s" if held else "no step held the SLA",
        highlight=False,
    )
    console.print(f"report: {summary['run']['folder']}/report.html", highlight=False)
    if not held:
        raise typer.Exit(1)


@load_app.command("compare")
def compare_command(
    before: Annotated[Path, typer.Argument(help="run folder (or its summary.json): A")],
    after: Annotated[Path, typer.Argument(help="run folder (or its summary.json): B")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False,
) -> None:
    """Two runs side by side: B / A for every figure (before/after a change)."""
    try:
        a, b = read_summary(before), read_summary(after)
    except ResultsError as error:
        raise fail(str(error)) from None
    rows = compare_runs(a, b)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(
        title=f"A {a['run']['scenario']} {a['run']['id']}  vs  B {b['run']['scenario']} "
        f"{b['run']['id']}",
        title_justify="left",
    )
    for column in ("figure", "A", "B", "B / A"):
        table.add_column(column, justify="right" if column != "figure" else "left")
    for row in rows:
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        if row["better"] is not None:
            ratio = f"[{'green' if row['better'] else 'red'}]{ratio}[/]"
        table.add_row(
            row["figure"],
            "-" if row["a"] is None else f"{row['a']:.4g} {row['unit']}",
            "-" if row["b"] is None else f"{row['b']:.4g} {row['unit']}",
            ratio,
        )
    console.print(table)


@load_app.command()
def worker(
    master_host: Annotated[str, typer.Option(help="the machine running `load run --workers N`")],
    master_port: Annotated[int, typer.Option(help="the master's --master-bind-port")] = 5557,
) -> None:
    """Add this machine's CPU to a master's run (Locust worker); stops when the master quits."""
    code = start_generator(["worker", master_host, str(master_port)]).wait()
    raise typer.Exit(code)
