"""The steady state a drill starts from: every part running, no alert firing or active in
Alertmanager, and the drill's own alerts resolved at PagerDuty long enough ago that Alertmanager
has flushed their group (else a new fault is folded into the old incident and nobody is paged).
It is awaited for a while (a previous drill may still be resolving), then refused with a sentence.

Between the drills of a game day, error-budget alerts (`component="slo"`) raised by the game
day's own faults are tolerated: their long windows keep them firing for 30 minutes or more after
a repair, which is the budget telling the truth, not a fault in the stack.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from sandbox.client import SandboxClient
from soundcheck.drill.definition import DrillError
from soundcheck.drill.observe import IGNORED, page_alertname
from soundcheck.drill.polling import wait_for
from soundcheck.settings import StackSettings
from soundcheck.stack.part import State
from soundcheck.stack.stack import Stack

# Comfortably longer than any paging route's group_interval (P1: 10 s) plus a scrape and an
# evaluation: the group's resolve has been flushed.
GROUP_FLUSH_SECONDS = 65.0


def tolerated(alert: dict[str, Any], started: str, budget_since: float | None) -> bool:
    """An alert the steady state does not wait for: the Watchdog, or an error-budget alert that
    went active after `budget_since` (the game day's own faults spent that budget)."""
    labels = alert["labels"]
    if labels.get("alertname") in IGNORED:
        return True
    return (
        budget_since is not None
        and labels.get("component") == "slo"
        and datetime.fromisoformat(alert[started]).timestamp() >= budget_since
    )


def problems(
    stack: Stack,
    sandbox: SandboxClient,
    alerts: tuple[str, ...],
    only_expected: bool = False,
    budget_since: float | None = None,
) -> list[str]:
    """What keeps the stack from its steady state, as sentences (none: steady). With
    `only_expected`, other alerts may be firing (the demo on a stack that has just started);
    with `budget_since`, error-budget alerts that went active since then may be too."""
    settings: StackSettings = stack.settings
    found = [f"{s.name} is {s.state}" for s in stack.status() if s.state is not State.RUNNING]
    if found:
        return found  # the rest cannot be asked
    prometheus = f"http://{settings.host}:{settings.prometheus_port}"
    rules = httpx.get(f"{prometheus}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    firing = sorted(
        {
            a["labels"]["alertname"]
            for a in rules
            if a["state"] == "firing" and not tolerated(a, "activeAt", budget_since)
        }
    )
    if firing:
        found.append(f"alerts firing in Prometheus: {', '.join(firing)}")
    active = httpx.get(
        f"http://{settings.host}:{settings.alertmanager_port}/api/v2/alerts", timeout=5
    ).json()
    names = sorted(
        {a["labels"]["alertname"] for a in active if not tolerated(a, "startsAt", budget_since)}
    )
    if only_expected:
        names = [name for name in names if name in alerts]
    if names:
        found.append(f"alerts active in Alertmanager: {', '.join(names)}")
    found += unresolved_pages(sandbox, alerts)
    return found


def unresolved_pages(sandbox: SandboxClient, alerts: tuple[str, ...]) -> list[str]:
    events = sorted(sandbox.received("pagerduty"), key=lambda e: e["at"])
    last_trigger: dict[str, tuple[str, float]] = {}
    resolved: dict[str, float] = {}
    for event in events:
        key = str(event.get("dedup_key") or (event.get("body") or {}).get("dedup_key"))
        name = page_alertname(event)
        if event["kind"] == "trigger" and name in alerts:
            last_trigger[name] = (key, event["at"])
        elif event["kind"] == "resolve":
            resolved[key] = event["at"]
    found = []
    now = time.time()
    for name, (key, at) in last_trigger.items():
        done = resolved.get(key)
        if done is None or done < at:
            found.append(f"the last {name} page is not resolved at PagerDuty")
        elif now - done < GROUP_FLUSH_SECONDS:
            found.append(f"{name} resolved {now - done:.0f} s ago (Alertmanager flushes its group)")
    return found


def await_steady_state(
    stack: Stack,
    sandbox: SandboxClient,
    alerts: tuple[str, ...],
    within: float,
    say: Callable[[str], None],
    only_expected: bool = False,
    budget_since: float | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Return once the stack is steady; raise DrillError with the reasons after `within` s, or
    at once when `stop()` says so (Ctrl-C or SIGTERM while waiting)."""
    last: list[str] = []
    said_at = 0.0

    def steady() -> bool:
        nonlocal last, said_at
        try:
            last = problems(stack, sandbox, alerts, only_expected, budget_since)
        except (httpx.HTTPError, ValueError, KeyError) as error:
            last = [f"could not ask the stack ({error})"]
        if last and time.monotonic() - said_at > 10:
            say("waiting for the steady state: " + "; ".join(last))
            said_at = time.monotonic()
        return not last

    if not wait_for(steady, within, every=2.0, stop=stop):
        if stop():
            raise DrillError("Stopped while waiting for the steady state: nothing was injected.")
        raise DrillError(
            "The stack is not in its steady state, so the drill did not start: "
            + "; ".join(last)
            + ". Start the stack with `soundcheck up` and wait for the alerts to resolve."
        )
