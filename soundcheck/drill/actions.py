"""What drill files call (`provider: {type: python, func: NAME}`): faults and repairs with real
processes. Each takes the run's `DrillContext` first, then the file's arguments. Repairs are
idempotent: the engine may call them twice (a Ctrl-C during repair, a watchdog) and they must
leave the stack as `soundcheck up` would.

Adding a fault: write a function here (or in your own module, named by `module:` in the file)."""

from __future__ import annotations

import importlib
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from sandbox.client import SandboxClient
from soundcheck.drill.definition import Activity, DrillError
from soundcheck.drill.log_loss import LogMarkers
from soundcheck.stack.stack import Stack


@dataclass
class DrillContext:
    stack: Stack
    sandbox: SandboxClient
    # Where the background traffic goes when a `setup` activity started a service of its own
    # (the redis-failover drill's booking instance on the Sentinel group); None: the stack's.
    traffic_target: str | None = None
    markers: LogMarkers = field(init=False)  # the run's marked requests (log_loss.py)

    def __post_init__(self) -> None:
        self.markers = LogMarkers(self.stack.settings)


@dataclass(frozen=True)
class Finding:
    """What a probe returns when its measurement is also a check: the engine journals `output`
    and adds `check` (verdicts.check(...)) to the drill's checks."""

    output: str
    check: dict[str, Any]


def stop_parts(context: DrillContext, parts: list[str]) -> str:
    """Stop parts cleanly (SIGTERM, then SIGKILL after 30 s), as `soundcheck stop` does."""
    context.stack.stop(parts)
    return f"stopped {', '.join(parts)}"


def start_parts(context: DrillContext, parts: list[str]) -> str:
    """Start parts again and wait for their health checks (`soundcheck start`; idempotent)."""
    context.stack.up(parts)
    return f"{', '.join(parts)} running"


def kill_part(context: DrillContext, part: str) -> str:
    """SIGKILL a part's whole process group, as a crash would (`soundcheck kill`)."""
    context.stack.kill(part)
    return f"SIGKILLed {part}"


def booking_children(stack: Stack, marker: str) -> list[psutil.Process]:
    """Children of the booking part's gunicorn master whose command line contains `marker`."""
    master = stack.part("booking").process.process()
    if master is None:
        raise DrillError("The booking service is not running; start it with `soundcheck up`.")
    return [
        child for child in master.children(recursive=False) if marker in " ".join(child.cmdline())
    ]


def kill_gunicorn_worker(context: DrillContext) -> str:
    """SIGKILL one gunicorn worker of the booking service; the master starts a new one."""
    workers = [
        child
        for child in booking_children(context.stack, "")
        if "booking_app worker" not in " ".join(child.cmdline())
    ]
    if not workers:
        raise DrillError("The booking service has no gunicorn worker to kill.")
    os.kill(workers[0].pid, signal.SIGKILL)
    return f"SIGKILLed gunicorn worker {workers[0].pid}"


def signal_background_worker(context: DrillContext, signal_name: str) -> str:
    """Send SIGSTOP / SIGCONT to the booking service's background worker (queue activation,
    outbox relay, consumers): SIGSTOP stalls it, SIGCONT repairs it."""
    number = signal.Signals[signal_name]
    found = booking_children(context.stack, "booking_app worker")
    for child in found:
        os.kill(child.pid, number)
    return f"{signal_name} to {len(found)} background worker(s)"


def sandbox_fault(context: DrillContext, target: str, **fault: Any) -> str:
    """Switch a sandbox fault on, e.g. PagerDuty answering 500 (`for_seconds` ends it anyway)."""
    context.sandbox.fault(target, **fault)
    return f"{target}: {fault}"


def clear_sandbox_fault(context: DrillContext, target: str) -> str:
    context.sandbox.clear_fault(target)
    return f"{target}: fault cleared"


def resolve(activity: Activity) -> Callable[..., Any]:
    try:
        module = importlib.import_module(activity.module)
        found = getattr(module, activity.func)
    except (ImportError, AttributeError):
        raise DrillError(
            f"Activity {activity.name!r}: no function {activity.func!r} in {activity.module}."
        ) from None
    if not callable(found):
        raise DrillError(f"Activity {activity.name!r}: {activity.func!r} is not a function.")
    return found  # type: ignore[no-any-return]


def run_activity(context: DrillContext, activity: Activity) -> Any:
    return resolve(activity)(context, **activity.arguments)
