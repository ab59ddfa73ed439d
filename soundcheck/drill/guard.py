"""Always repair: Ctrl-C and SIGTERM only raise a flag the drill's waits check (a second Ctrl-C
during the repair is ignored, never a reason to skip it), and a watchdog raises the same flag
when the whole drill has run too long. A marker file names the repairs still owed, so a drill
killed with SIGKILL is repaired by the next `soundcheck drill`."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from soundcheck.drill.definition import Activity


class StopFlag:
    """Why the drill should stop early (None: it should not)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason: str | None = None
        self.previous: dict[int, Any] = {}
        self.watchdog: threading.Timer | None = None

    def set(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True if the drill was told to stop meanwhile."""
        return self.event.wait(max(0.0, seconds))

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        self.set("interrupted" if number == signal.SIGINT else "terminated")

    def __enter__(self) -> StopFlag:
        if threading.current_thread() is threading.main_thread():
            for number in (signal.SIGINT, signal.SIGTERM):
                self.previous[number] = signal.signal(number, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
        for number, handler in self.previous.items():
            signal.signal(number, handler)

    def arm_watchdog(self, seconds: float) -> None:
        self.watchdog = threading.Timer(seconds, self.set, args=("timeout",))
        self.watchdog.daemon = True
        self.watchdog.start()


def marker_path(home: Path) -> Path:
    return home / "drill-repair.todo.json"


def owe_repair(home: Path, drill: str, rollbacks: tuple[Activity, ...]) -> None:
    marker_path(home).write_text(
        json.dumps(
            {
                "drill": drill,
                "rollbacks": [
                    {"name": a.name, "func": a.func, "module": a.module, "arguments": a.arguments}
                    for a in rollbacks
                ],
            }
        )
    )


def repaired(home: Path) -> None:
    marker_path(home).unlink(missing_ok=True)


def owed_repairs(home: Path) -> tuple[str, tuple[Activity, ...]] | None:
    path = marker_path(home)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return data["drill"], tuple(
        Activity(name=a["name"], func=a["func"], module=a["module"], arguments=a["arguments"])
        for a in data["rollbacks"]
    )
