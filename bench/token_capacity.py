"""Benchmark: the capacity of POST /queue/token at the SLA, plain form against
the service, uninstrumented against instrumented, measured in one run.

    SOUNDCHECK_HOME=... SOUNDCHECK_PORT_OFFSET=... .venv/bin/soundcheck up
    SOUNDCHECK_HOME=... SOUNDCHECK_PORT_OFFSET=... .venv/bin/python bench/token_capacity.py \\
        [--rates 50,100,150,200,250,300,400] [--step-seconds 15] [--before DIR]

Starts, beside the stack's own and each on a database of its own: the plain form
(bench/plain_token.py), the service with SOUNDCHECK_INSTRUMENTATION=off, and the service
instrumented with 100 % trace sampling (spans exported to the stack's pipeline, logs shipped to
it), all with the service's gunicorn workers and threads and no background worker. `--before DIR`
adds the instrumented service run from an older checkout (e.g. `git worktree add DIR main`).

Then, rate by rate, each side takes one open-model step of `soundcheck load capacity
token-spike` (fresh userIds at a fixed arrival rate), in an order that rotates from one rate to
the next, until its step breaks the SLA (p95 < 500 ms, p99 < 1 s, errors < 1 %, nothing
dropped). A side's capacity is the highest rate it held. Prints every step, the capacities and
the ratios service/plain and instrumented/uninstrumented (goal: both >= 0.9), and writes them to
results/<time>-token-capacity.json. Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.plain_token import start_plain
from bench.side_services import free_port, start_service, wait_healthy
from loadtest.capacity_run import open_plan
from loadtest.fixtures import MariaDbFixtures
from loadtest.processes import GENERATOR, ProcessSampler, Samples
from loadtest.run import DEFAULT_RESULTS, RunOptions, generate, run_folder, stack_roots
from loadtest.scenarios import scenario as find_scenario
from soundcheck.settings import StackSettings, load_settings
from soundcheck.stack.process import ManagedProcess

SCENARIO = "token-spike"
TARGET = "target"
# Whose CPU per request the table shows: the side measured and what every request costs beside.
CPU_PARTS = (TARGET, "mariadb", "elasticsearch", "pipeline", GENERATOR)
CPU_PAIRS = (
    ("uninstrumented", "plain"),
    ("instrumented", "plain"),
    ("instrumented", "uninstrumented"),
    ("instrumented", "before"),
)
ALWAYS_SAMPLE = {"OTEL_TRACES_SAMPLER": "parentbased_always_on"}
Starter = Callable[[StackSettings], tuple[str, ManagedProcess]]


def plain(settings: StackSettings) -> tuple[str, ManagedProcess]:
    port = free_port(settings.host)
    process = start_plain(
        settings,
        settings.home / "bench" / "plain",
        port,
        f"{settings.mariadb_database}_bench_plain",
    )
    url = f"http://{settings.host}:{port}"
    wait_healthy("plain form", url, process)
    return url, process


def service(side: str, overrides: dict[str, str], code: Path | None = None) -> Starter:
    def start(settings: StackSettings) -> tuple[str, ManagedProcess]:
        url, process, _ = start_service(settings, side, overrides, code)
        return url, process

    return start


def step(
    settings: StackSettings, url: str, pid: int, rate: float, seconds: float
) -> dict[str, Any]:
    """One open-model step of token-spike at `rate` arrivals/s against `url` (its gunicorn
    master `pid`), with the CPU each part spent per answered request while the step ran."""
    scenario = find_scenario(SCENARIO)
    options = RunOptions(scenario=SCENARIO, target=url, rates=[rate], step_seconds=seconds)
    run_id = f"bc{int(time.time())}{secrets.token_hex(2)}"
    fixtures = MariaDbFixtures(settings, run_id)
    plan = open_plan(scenario, options, settings, fixtures, run_id)
    folder = run_folder(DEFAULT_RESULTS / "token-capacity-steps", scenario, f"-{rate:g}")
    sampler = ProcessSampler({**stack_roots(settings), TARGET: pid})
    sampler.start()
    try:
        generate(plan, folder, sampler)
    finally:
        samples = sampler.stop()
    client = json.loads((folder / "client.json").read_text())
    steps: list[dict[str, Any]] = client.get("steps", [])
    if not steps:
        return {"rate": rate, "held": False, "achieved_rps": 0.0}
    result = steps[0]
    result["cpu_ms_per_request"] = cpu_per_request(samples, result)
    return result


def cpu_per_request(samples: Samples, step: dict[str, Any]) -> dict[str, float]:
    """CPU ms per answered request of each part, from its mean share of a core in the step."""
    inside = [
        i for i, at in enumerate(samples.times) if step["started_at"] <= at <= step["ended_at"]
    ]
    answered = step["achieved_rps"]
    if not inside or not answered:
        return {}
    return {
        part: sum(series[i] for i in inside) / len(inside) * 10.0 / answered
        for part, series in samples.parts.items()
        if part in CPU_PARTS
    }


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_step(side: str, s: dict[str, Any]) -> None:
    errors = s.get("error_rate_percent")
    print(
        f"{side:<16}{s['rate']:>8g}{s['achieved_rps']:>10.1f}{ms(s.get('p50_ms')):>8}"
        f"{ms(s.get('p95_ms')):>8}{ms(s.get('p99_ms')):>8}"
        f"{'-' if errors is None else f'{errors:.2f}':>8}{s.get('dropped', 0):>8}"
        f"{'yes' if s['held'] else 'NO':>6}  "
        + " ".join(f"{part} {cpu:.1f}" for part, cpu in s.get("cpu_ms_per_request", {}).items()),
        flush=True,
    )


def mean_cpu(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Each part's CPU ms per request, averaged over a side's steps."""
    measured = [r["cpu_ms_per_request"] for r in runs if r.get("cpu_ms_per_request")]
    parts = {part for m in measured for part in m}
    return {p: sum(m.get(p, 0.0) for m in measured) / len(measured) for p in sorted(parts)}


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return None if not numerator or not denominator else numerator / denominator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="50,100,150,200,250,300,400")
    parser.add_argument("--step-seconds", type=float, default=15.0)
    parser.add_argument("--before", type=Path, help="a checkout whose service runs as 'before'")
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="every side takes every step, held or not (e.g. --rates 50,50,50 to compare CPU "
        "per request at one rate on a machine too busy for latencies to mean much)",
    )
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    settings = load_settings()
    starters: dict[str, Starter] = {
        "plain": plain,
        "uninstrumented": service("off", {"SOUNDCHECK_INSTRUMENTATION": "off"}),
        "instrumented": service("on", {"SOUNDCHECK_INSTRUMENTATION": "on", **ALWAYS_SAMPLE}),
    }
    if args.before is not None:
        before = {"SOUNDCHECK_INSTRUMENTATION": "on", **ALWAYS_SAMPLE}
        starters["before"] = service("before", before, args.before.resolve())
    started: dict[str, tuple[str, int]] = {}
    processes: list[ManagedProcess] = []
    steps: dict[str, list[dict[str, Any]]] = {name: [] for name in starters}
    try:
        for name, starter in starters.items():
            url, process = starter(settings)
            processes.append(process)
            record = process.record()
            started[name] = (url, record.pid if record is not None else 0)
            step(settings, *started[name], 20, 5)  # warm-up: connections, first queries
        print(f"load average at start: {os.getloadavg()}")
        print(
            f"{'side':<16}{'offered':>8}{'handled':>10}{'p50':>8}{'p95':>8}{'p99':>8}"
            f"{'err %':>8}{'dropped':>8}{'held':>6}  CPU ms per request"
        )
        climbing = list(starters)
        for index, rate in enumerate(rates):
            order = climbing[index % len(climbing) :] + climbing[: index % len(climbing)]
            for name in order:
                result = step(settings, *started[name], rate, args.step_seconds)
                steps[name].append(result)
                print_step(name, result)
                if not result["held"] and not args.keep_going:
                    climbing.remove(name)
            if not climbing:
                break
        print(f"load average at end: {os.getloadavg()}")
    finally:
        for process in processes:
            process.stop()
    capacity = {
        name: max((s["rate"] for s in runs if s["held"]), default=None)
        for name, runs in steps.items()
    }
    ratios = {
        "uninstrumented/plain": ratio(capacity["uninstrumented"], capacity["plain"]),
        "instrumented/plain": ratio(capacity["instrumented"], capacity["plain"]),
        "instrumented/uninstrumented": ratio(capacity["instrumented"], capacity["uninstrumented"]),
    }
    if "before" in capacity:
        ratios["instrumented/before"] = ratio(capacity["instrumented"], capacity["before"])
    cpu = {name: mean_cpu(runs) for name, runs in steps.items()}
    for name, value in capacity.items():
        print(f"capacity {name:<16} {'none held' if value is None else f'{value:g}/s'}")
    for name, parts in cpu.items():
        print(f"CPU ms/request {name:<16} " + " ".join(f"{p} {v:.2f}" for p, v in parts.items()))
    # On CPU alone (a machine of its own, nothing else running), capacity goes as 1 / CPU.
    for side, base in CPU_PAIRS:
        if side in cpu and base in cpu:
            value = ratio(cpu[base].get(TARGET), cpu[side].get(TARGET))
            print(f"CPU-bound ratio {side}/{base:<16} {'-' if value is None else f'{value:.2f}'}")
    out = DEFAULT_RESULTS / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-token-capacity.json"
    figures = {"steps": steps, "capacity": capacity, "ratios": ratios, "cpu_ms_per_request": cpu}
    out.write_text(json.dumps(figures, indent=2))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
