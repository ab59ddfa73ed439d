"""The load itself, on Locust (child process only: importing Locust patches the standard library
for gevent). Reads a plan written by `loadtest.run`, runs it as a closed model (the scenario's
stages), an open model (capacity: arrivals at fixed rates), a master that waits for workers, or a
worker, and writes what it measured to `client.json` in the run's folder."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locust import events
from locust.log import setup_logging

from loadtest.closed_model import PlanError, run_closed, run_worker
from loadtest.locust_session import on_request
from loadtest.open_model import run_open


class HighSpawnRateWarning(logging.Filter):
    """Drops Locust's "spawn rate is very high" warning: StagesShape ramps by setting the users
    each second and lets Locust reach them at once, so the warning came every second of a ramp."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "spawn rate is very high" not in record.getMessage()


def main(argv: list[str]) -> int:
    """`python -m loadtest run PLAN.json` or `python -m loadtest worker HOST PORT`."""
    setup_logging("WARNING")
    logging.getLogger("locust").setLevel(logging.WARNING)
    logging.getLogger("locust.runners").addFilter(HighSpawnRateWarning())
    events.request.add_listener(on_request)
    if len(argv) == 2 and argv[0] == "run":
        plan_path = Path(argv[1])
        plan = json.loads(plan_path.read_text())
        runners: dict[str, Callable[[dict[str, Any], Path], None]] = {
            "closed": run_closed,
            "open": run_open,
        }
        try:
            runners[plan["model"]](plan, plan_path.parent)
        except PlanError as error:
            sys.stderr.write(f"error: {error}\n")
            return 2
        return 0
    if len(argv) == 3 and argv[0] == "worker":
        run_worker(argv[1], int(argv[2]))
        return 0
    sys.stderr.write("usage: python -m loadtest run PLAN.json | worker MASTER_HOST PORT\n")
    return 2
