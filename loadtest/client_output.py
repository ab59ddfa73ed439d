"""What the generator shows and hands back: the live progress line on stderr, whether a capacity
step held the SLA, and `client.json`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust.runners import Runner

from loadtest.collector import summarize
from loadtest.locust_session import collector

PROGRESS_EVERY_SECONDS = 1.0
PLAIN_PROGRESS_EVERY_SECONDS = 10.0
users_by_second: dict[int, int] = {}
in_flight_by_second: dict[int, int] = {}  # the open model's: its one user says nothing


def note_in_flight(count: int) -> None:
    """An open-model send saw `count` arrivals in flight: each second keeps its most (a sample
    once a second would miss a pile-up between two samples)."""
    second = int(time.time())
    if count > in_flight_by_second.get(second, 0):
        in_flight_by_second[second] = count


def progress(
    runner: Runner,
    total: float,
    began: float,
    done: Event,
    in_flight: Callable[[], int] | None = None,
) -> None:
    """A live line: elapsed, users (or, given `in_flight`, the open model's arrivals waiting
    for their answers), requests/s, p95 and errors so far (stderr)."""
    live = sys.stderr.isatty()
    last_plain = 0.0
    while not done.is_set():
        gevent.sleep(PROGRESS_EVERY_SECONDS)
        now = time.time()
        if in_flight is None:
            label, count = "users", runner.user_count
            users_by_second[int(now)] = count
        else:
            label, count = "in flight", in_flight()
        stats = runner.stats.total
        p95 = stats.get_response_time_percentile(0.95) if stats.num_requests else 0
        errors = 100.0 * stats.fail_ratio
        line = (
            f"{now - began:6.0f}/{total:.0f} s  {label} {count:5d}  "
            f"{stats.current_rps:7.1f} req/s  p95 {p95 or 0:6.0f} ms  errors {errors:5.2f} %"
        )
        if live:
            sys.stderr.write("\r" + line)
            sys.stderr.flush()
        elif now - last_plain >= PLAIN_PROGRESS_EVERY_SECONDS:
            sys.stderr.write(line + "\n")
            last_plain = now
    if live:
        sys.stderr.write("\n")


def step_held(step: dict[str, Any], measured: dict[str, Any] | None, plan: dict[str, Any]) -> bool:
    """Whether a step kept the SLA (the run's thresholds) with every arrival sent."""
    from loadtest.collector import percentile

    if not measured or not measured["requests"]:
        return False
    sla = plan["sla"]
    p95, p99 = percentile(measured["ms"], 0.95), percentile(measured["ms"], 0.99)
    error = 100.0 * measured["failures"] / measured["requests"]
    return (
        step["dropped"] == 0
        and p95 is not None
        and p95 < sla["p95_ms"]
        and p99 is not None
        and p99 < sla["p99_ms"]
        and error < sla["error_rate_percent"]
    )


def write_client(
    out: Path,
    plan: dict[str, Any],
    began: float,
    ended: float,
    steps: list[dict[str, Any]] | None = None,
) -> None:
    client = summarize(collector, users_by_second, began, ended)
    client["user_prefix"] = plan["user_prefix"]
    if plan.get("per_second_detail"):  # a drill's windows: exact p95 and failures inside them
        client["per_second"] = {
            str(second): {"ms": bucket[2], "failed": collector.failed.get(second, {})}
            for second, bucket in sorted(collector.seconds.items())
        }
    if steps is not None:
        from loadtest.collector import percentile

        for point in client["series"]:
            point["in_flight"] = in_flight_by_second.get(point["t"], 0)
        client["in_flight_peak"] = max(in_flight_by_second.values(), default=0)

        for step in steps:
            measured = collector.steps.get(step["step"], {"requests": 0, "failures": 0, "ms": []})
            step.update(
                completed=measured["requests"],
                failures=measured["failures"],
                achieved_rps=measured["requests"] / max(step["ended_at"] - step["started_at"], 1),
                p50_ms=percentile(measured["ms"], 0.50),
                p95_ms=percentile(measured["ms"], 0.95),
                p99_ms=percentile(measured["ms"], 0.99),
                error_rate_percent=(
                    100.0 * measured["failures"] / measured["requests"]
                    if measured["requests"]
                    else None
                ),
                held=step_held(step, measured, plan),
            )
        client["steps"] = steps
    (out / "client.json").write_text(json.dumps(client))
