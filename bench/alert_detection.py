"""Time from a real fault to its page: Redis stopped → RedisDown firing in Prometheus, active in
Alertmanager, and the router's PagerDuty trigger arriving at the sandbox. Not a test: figures go
to docs/alerting.md. The drill engine's pieces do the work (steady state, observer, fault and
repair), with the observer asking every 0.1 s so the figures are that fine.

    SOUNDCHECK_HOME=... SOUNDCHECK_PORT_OFFSET=... .venv/bin/python bench/alert_detection.py [runs]

Needs a running stack (`soundcheck up`). Redis is started again after every run, whatever happens.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from functools import partial

from rich.console import Console

from sandbox.client import SandboxClient
from soundcheck.drill.actions import DrillContext, start_parts, stop_parts
from soundcheck.drill.observe import Observer
from soundcheck.drill.polling import wait_for
from soundcheck.drill.steady import await_steady_state
from soundcheck.settings import load_settings
from soundcheck.stack.stack import Stack

ALERT = "RedisDown"


def main(runs: int) -> None:
    settings = load_settings()
    stack = Stack(settings)
    sandbox = SandboxClient(f"http://{settings.host}:{settings.sandbox_port}")
    context = DrillContext(stack, sandbox)
    console = Console(stderr=True)
    figures: dict[str, list[float]] = {"firing": [], "alertmanager": [], "paged": []}
    for run in range(runs):
        # The steady state waits out Alertmanager's group flush after the last resolve; start
        # the fault at an arbitrary point of the 5 s scrape cycle.
        await_steady_state(stack, sandbox, (ALERT,), 300, console.print)
        time.sleep(random.uniform(0, 5))  # noqa: S311 - a random phase, not a readiness wait
        began = time.time()
        observer = Observer(settings, sandbox, began, every=0.1)
        observer.start()
        stop_parts(context, ["redis"])
        try:
            paged = wait_for(partial(observer.seen, ALERT, "paged"), 120)
        finally:
            start_parts(context, ["redis"])
            observer.stop()
        if not paged:
            raise SystemExit(f"run {run + 1}: {ALERT} was not paged within 120 s")
        entry = observer.timeline()["alerts"][ALERT]
        for key, values in figures.items():
            values.append(entry[key] - began)
        print(
            f"run {run + 1}: firing in Prometheus {figures['firing'][-1]:.1f} s, "
            f"in Alertmanager {figures['alertmanager'][-1]:.1f} s, "
            f"paged {figures['paged'][-1]:.1f} s"
        )
    print(
        f"{ALERT}, {runs} runs: "
        + "; ".join(
            f"{label} median {statistics.median(figures[key]):.1f} s "
            f"(max {max(figures[key]):.1f} s)"
            for key, label in (
                ("firing", "Prometheus"),
                ("alertmanager", "Alertmanager"),
                ("paged", "PagerDuty (sandbox)"),
            )
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
