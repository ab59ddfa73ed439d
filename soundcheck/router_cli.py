"""`soundcheck router ...`: operating the alert router's queue from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from soundcheck.settings import load_settings

router_app = typer.Typer(help="The alert router's delivery queue.", no_args_is_help=True)
console = Console()

DatabaseOption = Annotated[
    str | None,
    typer.Option(help="the router's store (default: the local stack's router.db)"),
]


def _database_url(given: str | None) -> str:
    return given or f"sqlite:///{load_settings().part_dir('router') / 'router.db'}"


@router_app.command()
def dead(database_url: DatabaseOption = None) -> None:
    """List dead letters: deliveries that failed until the dead-letter time ran out."""
    from router.replay import dead_letters

    table = Table("id", "target", "action", "destination", "attempts", "last error")
    for d in sorted(dead_letters(_database_url(database_url)), key=lambda d: d.id):
        table.add_row(str(d.id), d.target, d.action, d.destination, str(d.attempts), d.last_error)
    console.print(table)


@router_app.command()
def replay(
    database_url: DatabaseOption = None,
    target: Annotated[str | None, typer.Option(help="only this target")] = None,
    delivery_id: Annotated[list[int] | None, typer.Option("--id", help="only these ids")] = None,
) -> None:
    """Queue dead letters again; the running router delivers them (idempotently) at once."""
    from router.replay import replay as replay_dead

    count = replay_dead(_database_url(database_url), target, delivery_id)
    console.print(f"{count} dead letter(s) queued again.")
