"""The `soundcheck` command line: the local stack of real services, and later the drills."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from soundcheck.demo import DemoError, run_demo
from soundcheck.drill_cli import drill
from soundcheck.load_cli import load_app
from soundcheck.log_search import print_log_search
from soundcheck.progress import LiveProgress, PlainProgress
from soundcheck.router_cli import router_app
from soundcheck.settings import load_settings
from soundcheck.stack.errors import StackError
from soundcheck.stack.java import ensure_dist
from soundcheck.stack.part import PartStatus, State
from soundcheck.stack.stack import Stack

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
app.add_typer(router_app, name="router")
app.add_typer(load_app, name="load")
app.command("drill")(drill)
console = Console()
errors = Console(stderr=True)


@app.callback()
def _check_settings() -> None:
    """Read the settings once, first: a misspelled SOUNDCHECK_* variable stops every command."""
    try:
        load_settings()
    except ValidationError as error:
        for problem in error.errors():
            message = str(problem["msg"]).removeprefix("Value error, ")
            errors.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


PartsArg = Annotated[list[str] | None, typer.Argument(help="parts (default: all)")]
STATE_STYLE = {
    State.RUNNING: "green",
    State.STARTING: "yellow",
    State.UNHEALTHY: "red",
    State.CRASHED: "bold red",
    State.STOPPED: "dim",
}


def _stack() -> Stack:
    return Stack(load_settings())


def _fail(error: StackError) -> typer.Exit:
    errors.print(f"[red]error:[/] {error}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def status_table(statuses: list[PartStatus]) -> Table:
    table = Table(title_justify="left")
    for column in ("part", "state", "address", "version", "pid"):
        table.add_column(column)
    for s in statuses:
        state = f"[{STATE_STYLE[s.state]}]{s.state}[/]"
        table.add_row(s.name, state, s.address, s.version, str(s.pid or ""))
    return table


def _print_status(statuses: list[PartStatus]) -> None:
    console.print(status_table(statuses))
    for s in statuses:
        if s.detail and s.state is not State.RUNNING:
            console.print(f"  {s.name}: {s.detail}", highlight=False)


@app.command()
def up(parts: PartsArg = None) -> None:
    """Start the real services (all, or the ones named) and wait until each is healthy."""
    stack = _stack()
    began = time.monotonic()
    progress = LiveProgress(console) if console.is_terminal else PlainProgress(console)
    try:
        with progress:
            statuses = stack.up(parts or None, progress)  # no names: every part
    except StackError as error:
        raise _fail(error) from None
    _print_status(statuses)
    console.print(f"up in {time.monotonic() - began:.1f} s. Stop with `make down`.")


@app.command()
def down() -> None:
    """Stop every part and wait until none of their ports listens."""
    try:
        _stack().down()
    except StackError as error:
        raise _fail(error) from None
    console.print("all parts stopped.")


@app.command()
def start(parts: Annotated[list[str], typer.Argument(help="parts to start")]) -> None:
    """Start single parts (drills stop and start them one at a time)."""
    up(parts)


@app.command()
def stop(parts: Annotated[list[str], typer.Argument(help="parts to stop")]) -> None:
    """Stop single parts cleanly; `status` then says stopped."""
    try:
        _stack().stop(parts)
    except StackError as error:
        raise _fail(error) from None
    console.print(f"stopped: {', '.join(parts)}")


@app.command()
def kill(part: str) -> None:
    """SIGKILL a part, as a crash would; `status` then says crashed."""
    try:
        _stack().kill(part)
    except StackError as error:
        raise _fail(error) from None
    console.print(f"killed: {part}")


@app.command()
def status(
    parts: PartsArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False,
) -> None:
    """Show each part: running, starting, unhealthy, crashed or stopped."""
    try:
        statuses = _stack().status(parts or None)
    except StackError as error:
        raise _fail(error) from None
    if as_json:
        typer.echo(json.dumps([s.as_dict() for s in statuses], indent=2))
    else:
        _print_status(statuses)


@app.command()
def logs(
    part: Annotated[str, typer.Argument(help="a part, or `search` to run a saved log search")],
    search_name: Annotated[
        str | None, typer.Argument(help="with `search`: the saved search (none lists them)")
    ] = None,
    lines: Annotated[int, typer.Option("--lines", "-n", help="how many lines")] = 50,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing")] = False,
    trace_id: Annotated[str | None, typer.Option(help="search: the trace to show")] = None,
    size: Annotated[int, typer.Option(help="search: at most this many rows")] = 50,
    since: Annotated[str | None, typer.Option(help="search: e.g. 15m, 24h, 7d")] = None,
) -> None:
    """Print the end of a part's output log, or run `logs search NAME` against Elasticsearch."""
    if part == "search":
        raise typer.Exit(print_log_search(console, search_name, trace_id, size, since))
    try:
        log_file = _stack().part(part).process.log_file
    except StackError as error:
        raise _fail(error) from None
    if not log_file.exists():
        raise _fail(
            StackError(f"{part} has no log yet ({log_file}); start it with `soundcheck up`.")
        )
    if follow:
        subprocess.run(["tail", "-n", str(lines), "-F", str(log_file)], check=False)
    else:
        typer.echo(_stack().part(part).process.log_tail(lines))


@app.command()
def demo(
    scale: Annotated[
        float, typer.Option(min=0.01, max=1, help="the opening's length (token-spike stages)")
    ] = 0.2,
    users: Annotated[
        float, typer.Option(min=0.001, max=1, help="the opening's users (of token-spike's 1,000)")
    ] = 0.1,
) -> None:
    """A short game day on the real stack: a ticket opening (token-spike), then the redis-down
    drill; both reports and the sandbox page at the end; exit 1 when a check fails."""
    up(None)
    settings = load_settings()
    try:
        found = run_demo(_stack(), console, scale, users)
    except DemoError as error:
        raise _fail(StackError(str(error))) from None
    host = settings.host
    console.print("\nWhere to look:")
    router = f"http://{host}:{settings.router_port}"
    where = [  # the sandbox page first: the page as PagerDuty, Slack, Jira and e-mail show it
        ("Notifications", f"http://{host}:{settings.sandbox_port}/_sandbox"),
        ("Opening report", f"{found.opening['run']['folder']}/report.html"),
        ("Drill report", f"{found.drill['folder']}/report.html"),
        ("Logs", f"{router}/logs"),
        ("Dashboards", f"{router}/dashboards"),
        ("Runbooks", f"{router}/runbooks"),
        ("Prometheus", f"http://{host}:{settings.prometheus_port}/alerts"),
        ("Alertmanager", f"http://{host}:{settings.alertmanager_port}"),
        ("Booking API", f"http://{host}:{settings.booking_port}/openapi.json"),
    ]
    for what, address in where:
        console.print(f"  {what:<16} {address}", highlight=False)
    console.print("\nStop everything with `make down` (or `.venv/bin/soundcheck down`).")
    if not found.passed:
        raise typer.Exit(1)


@app.command()
def fetch() -> None:
    """Download (through Maven) the jars Kafka and Elasticsearch run from, if not cached."""
    settings = load_settings()
    for project in ("kafka", "elasticsearch"):
        console.print(f"{project}: ", end="")
        try:
            console.print(str(ensure_dist(settings, project)), highlight=False)
        except StackError as error:
            raise _fail(error) from None


if __name__ == "__main__":
    app()
