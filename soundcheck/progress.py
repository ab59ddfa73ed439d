"""Showing `soundcheck up` progress: a live table on a terminal, plain lines in CI logs."""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.table import Table

from soundcheck.stack.stack import Phase

PLAIN_REPEAT_SECONDS = 10.0


def describe(phase: Phase) -> str:
    if phase.failed:
        return "failed"
    if phase.done:
        return "already running" if phase.text == "already running" else "ready"
    return phase.text


def phase_table(phases: dict[str, Phase]) -> Table:
    table = Table(title="soundcheck up", title_justify="left")
    table.add_column("part")
    table.add_column("doing")
    table.add_column("elapsed", justify="right")
    for name, phase in phases.items():
        mark = "[red]✗[/]" if phase.failed else "[green]✓[/]" if phase.done else "…"
        elapsed = (
            "" if phase.done and phase.text == "already running" else f"{phase.elapsed():.0f} s"
        )
        table.add_row(name, f"{mark} {describe(phase)}", elapsed)
    return table


class LiveProgress:
    """A table that redraws in place while parts start (use as a context manager)."""

    def __init__(self, console: Console) -> None:
        self.live = Live(console=console, refresh_per_second=4, transient=True)

    def __enter__(self) -> LiveProgress:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    def show(self, phases: dict[str, Phase]) -> None:
        self.live.update(phase_table(phases))


class PlainProgress:
    """One line per change, and a reminder every few seconds for parts still waiting."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.said: dict[str, tuple[str, float]] = {}

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def show(self, phases: dict[str, Phase]) -> None:
        now = time.monotonic()
        for name, phase in phases.items():
            text = describe(phase)
            last_text, last_time = self.said.get(name, ("", 0.0))
            if text != last_text or (not phase.done and now - last_time > PLAIN_REPEAT_SECONDS):
                self.console.print(f"{name:<14} {text} ({phase.elapsed():.0f} s)", highlight=False)
                self.said[name] = (text, now)
