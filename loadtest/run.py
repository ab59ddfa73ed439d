"""One load run, from the parent's side: prepare data, start the generator process, sample CPU,
then ask MariaDB and Prometheus, judge the thresholds and write the run's folder:
`summary.json`, `series.csv`, `endpoints.csv`, `cpu.csv`, `report.html`."""

from __future__ import annotations

import json
import math
import secrets
import shlex
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadtest import results
from loadtest.fixtures import MariaDbFixtures
from loadtest.generator_process import start_generator
from loadtest.processes import GENERATOR, ProcessSampler, Samples
from loadtest.saturation import verdict
from loadtest.scenario import Scenario
from loadtest.scenarios import scenario as find_scenario
from loadtest.server import PrometheusUnavailable, server_view
from loadtest.sql_latency import ElasticsearchUnavailable, sql_latency_panel
from loadtest.stages import Stage, parse_stages, scaled, total_seconds
from loadtest.thresholds import chosen, describe_failure
from soundcheck import REPO_ROOT
from soundcheck.settings import StackSettings
from soundcheck.stack.part import State
from soundcheck.stack.parts.booking import expire_queue_tokens
from soundcheck.stack.stack import Stack

SCHEMA = "soundcheck.load.summary/1"
DEFAULT_RESULTS = REPO_ROOT / "results"


class LoadRunError(RuntimeError):
    """The run could not be made (not a threshold failing); the message says what to do."""


@dataclass
class RunOptions:
    scenario: str
    scale: float = 1.0
    users: float = 1.0
    target: str | None = None
    think_seconds: float | None = None
    stages: str | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    results: Path = DEFAULT_RESULTS
    workers: int = 0
    master_bind_host: str = "*"
    master_bind_port: int = 5557
    worker_wait_seconds: float = 120.0
    command: str = ""
    # capacity (open model)
    rates: list[float] = field(default_factory=list)
    step_seconds: float = 15.0
    max_in_flight: int = 1000


def stages_for(scenario: Scenario, options: RunOptions) -> tuple[Stage, ...]:
    base = parse_stages(options.stages) if options.stages else scenario.stages
    return scaled(base, options.scale, options.users)


def run_folder(root: Path, scenario: Scenario, kind: str = "") -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = root / f"{stamp}-{scenario.name}{kind}"
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def stack_roots(settings: StackSettings) -> dict[str, int]:
    """The root process of every running stack part (their children are found as they come)."""
    return {
        s.name: s.pid
        for s in Stack(settings).status()
        if s.state is State.RUNNING and s.pid is not None
    }


def generate(plan: dict[str, Any], folder: Path, sampler: ProcessSampler) -> None:
    """Run the generator process (`python -m loadtest run plan.json`) to its end; its progress
    line goes to our stderr, its own log to generator.log."""
    (folder / "plan.json").write_text(json.dumps(plan, indent=2))
    with (folder / "generator.log").open("w") as log:
        child = start_generator(["run", str(folder / "plan.json")], stdout=log)
        sampler.add(GENERATOR, child.pid)
        code = child.wait()
    if code != 0 or not (folder / "client.json").exists():
        raise LoadRunError(
            f"The load generator stopped with exit code {code}; see {folder / 'generator.log'}."
        )


def memory_growth(samples: Samples, since: float) -> dict[str, Any]:
    """The booking service's resident memory over the last stage (the soak's hold): the median
    of its last quarter against the median of its first quarter."""
    held = [r for t, r in zip(samples.times, samples.booking_rss_bytes, strict=False) if t >= since]
    held = [r for r in held if r > 0]
    if len(held) < 4:
        return {"growth_percent": None, "samples": len(held)}
    quarter = max(1, len(held) // 4)
    first, last = statistics.median(held[:quarter]), statistics.median(held[-quarter:])
    return {
        "first_mb": first / 2**20,
        "last_mb": last / 2**20,
        "growth_percent": 100.0 * (last - first) / first,
        "samples": len(held),
    }


def base_plan(
    scenario: Scenario, options: RunOptions, settings: StackSettings, run_id: str
) -> dict[str, Any]:
    target = options.target or f"http://{settings.host}:{settings.booking_port}"
    return {
        "scenario": scenario.name,
        "target": target,
        "think_seconds": (
            scenario.think_seconds if options.think_seconds is None else options.think_seconds
        ),
        "user_prefix": run_id,
        "params": {},
    }


def load_run(options: RunOptions, settings: StackSettings) -> dict[str, Any]:
    """A closed-model run of a scenario's stages; returns the summary (also written)."""
    scenario = find_scenario(options.scenario)
    stages = stages_for(scenario, options)
    run_id = f"lt{int(time.time())}{secrets.token_hex(2)}"
    plan = base_plan(scenario, options, settings, run_id)
    fixtures = MariaDbFixtures(settings, run_id)
    plan["params"] = scenario.prepare(fixtures, stages, plan["think_seconds"])
    plan.update(
        model="closed",
        stages=[{"seconds": s.seconds, "users": s.users} for s in stages],
        workers=options.workers,
        master_bind_host=options.master_bind_host,
        master_bind_port=options.master_bind_port,
        worker_wait_seconds=options.worker_wait_seconds,
    )
    folder = run_folder(options.results, scenario)
    client, samples = generate_and_sample(plan, folder, settings)
    checks = scenario.check(fixtures, plan["params"], client)
    expire_queue_tokens(settings, run_id)
    server = server_measurements(settings, client)
    last_stage_from = client["started_at"] + total_seconds(stages[:-1])
    server["memory"] = memory_growth(samples, last_stage_from)
    server["cpu"] = samples.as_dict()
    server["saturation"] = verdict(
        server["cpu"], server.get("panels", {}), (client["started_at"], client["ended_at"])
    )
    summary = {
        "schema": SCHEMA,
        "run": run_record(
            "load",
            scenario.title,
            run_id,
            scenario,
            plan,
            client,
            options,
            folder,
            scale=options.scale,
            users_factor=options.users,
            stages=plan["stages"],
            think_seconds=plan["think_seconds"],
            workers=options.workers,
        ),
        "client": client,
        "server": server,
        "checks": checks,
    }
    return judge_and_write(summary, scenario, options, folder)


def warnings(client: dict[str, Any]) -> list[str]:
    """What a reader of the figures must know: users that never reached the timed part."""
    started, peak = client["visitors"]["started"], client["users_peak"]
    if started >= peak:
        return []
    return [
        f"Only {started} of the {peak} virtual users got past their setup (an ACTIVE queue "
        "token) before the run ended: the service lets BOOKING_MAX_ACTIVE_TOKENS users in at a "
        "time (docs/loadtest.md says how to raise it for a run)."
    ]


def judge_and_write(
    summary: dict[str, Any], scenario: Scenario, options: RunOptions, folder: Path
) -> dict[str, Any]:
    summary["warnings"] = warnings(summary["client"])
    judged = [t.judge(summary) for t in chosen(scenario.thresholds, options.thresholds)]
    summary["thresholds"] = judged
    summary["passed"] = all(t["passed"] for t in judged)
    summary["failures"] = [describe_failure(t) for t in judged if not t["passed"]]
    results.write(summary, folder)
    return summary


def generate_and_sample(
    plan: dict[str, Any], folder: Path, settings: StackSettings
) -> tuple[dict[str, Any], Samples]:
    sampler = ProcessSampler(stack_roots(settings))
    sampler.start()
    try:
        generate(plan, folder, sampler)
    except BaseException:
        expire_queue_tokens(settings, plan["user_prefix"])
        raise
    finally:
        samples = sampler.stop()
    client: dict[str, Any] = json.loads((folder / "client.json").read_text())
    return client, samples


def server_measurements(settings: StackSettings, client: dict[str, Any]) -> dict[str, Any]:
    url = f"http://{settings.host}:{settings.prometheus_port}"
    try:
        view = server_view(url, client["started_at"], client["ended_at"])
    except PrometheusUnavailable as error:
        view = {"prometheus": url, "error": str(error), "panels": {}, "alerts": [], "slo": []}
    started, ended = client["started_at"], client["ended_at"]
    try:
        view["panels"]["sql_latency"] = sql_latency_panel(
            f"http://{settings.host}:{settings.elasticsearch_port}",
            started,
            ended,
            step=max(1.0, math.ceil((ended - started) / 300)),
        )
    except ElasticsearchUnavailable as error:
        view["sql_latency_error"] = str(error)
    return view


def command_line(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


def run_record(
    kind: str,
    title: str,
    run_id: str,
    scenario: Scenario,
    plan: dict[str, Any],
    client: dict[str, Any],
    options: RunOptions,
    folder: Path,
    **specific: Any,
) -> dict[str, Any]:
    """The summary's `run` section: what every run records, then what its kind adds."""
    return {
        "id": run_id,
        "kind": kind,
        "scenario": scenario.name,
        "plan_id": scenario.plan_id,
        "title": title,
        "target": plan["target"],
        "started_at": client["started_at"],
        "ended_at": client["ended_at"],
        "duration_seconds": client["duration_seconds"],
        **specific,
        "measured_requests": list(scenario.measured),
        "params": plan["params"],
        "command": options.command,
        "folder": str(folder),
    }
