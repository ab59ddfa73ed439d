"""A capacity search, from the parent's side: open-model steps of rising arrival rates until the SLA
breaks; the run's folder is written as a load run's is.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from loadtest import results
from loadtest.fixtures import MariaDbFixtures
from loadtest.run import (
    SCHEMA,
    LoadRunError,
    RunOptions,
    base_plan,
    generate_and_sample,
    run_folder,
    run_record,
    server_measurements,
)
from loadtest.saturation import verdict
from loadtest.scenario import Scenario
from loadtest.scenarios import scenario as find_scenario
from loadtest.stages import scaled
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import expire_queue_tokens


def open_plan(
    scenario: Scenario,
    options: RunOptions,
    settings: StackSettings,
    fixtures: MariaDbFixtures,
    run_id: str,
) -> dict[str, Any]:
    """The generator's plan for open-model steps at `options.rates` (bench/ runs one step at a
    time, alternating targets)."""
    plan = base_plan(scenario, options, settings, run_id)
    stages = scaled(scenario.stages, options.scale, options.users)
    plan["params"] = scenario.prepare(fixtures, stages, plan["think_seconds"])
    sla = {
        name: options.thresholds.get(name, default)
        for name, default in (("p95_ms", 500.0), ("p99_ms", 1000.0), ("error_rate_percent", 1.0))
    }
    plan.update(
        model="open",
        rates=options.rates,
        step_seconds=options.step_seconds,
        max_in_flight=options.max_in_flight,
        sla=sla,
        steps_after_break=False,
    )
    return plan


def capacity_run(options: RunOptions, settings: StackSettings) -> dict[str, Any]:
    """Open-model steps of rising arrival rates until the SLA breaks (plan §1-2: maximum TPS)."""
    scenario = find_scenario(options.scenario)
    if scenario.capacity_visitors == 0:
        raise LoadRunError(
            f"{scenario.name} has no capacity search: each of its iterations waits in the queue "
            "first, so an arrival rate says little. Try token-spike, reservation-stress or "
            "concert-read."
        )
    run_id = f"lt{int(time.time())}{secrets.token_hex(2)}"
    fixtures = MariaDbFixtures(settings, run_id)
    plan = open_plan(scenario, options, settings, fixtures, run_id)
    sla = plan["sla"]
    folder = run_folder(options.results, scenario, "-capacity")
    client, samples = generate_and_sample(plan, folder, settings)
    expire_queue_tokens(settings, run_id)
    server = server_measurements(settings, client)
    server["cpu"] = samples.as_dict()
    server["saturation"] = verdict(
        server["cpu"], server.get("panels", {}), (client["started_at"], client["ended_at"])
    )
    steps = client.get("steps", [])
    held = [s for s in steps if s["held"]]
    summary = {
        "schema": SCHEMA,
        "run": run_record(
            "capacity",
            f"Capacity of {scenario.name}: open-model arrivals, rising rate",
            run_id,
            scenario,
            plan,
            client,
            options,
            folder,
            rates=options.rates,
            step_seconds=options.step_seconds,
            max_in_flight=options.max_in_flight,
            sla=sla,
        ),
        "client": client,
        "server": server,
        "checks": {},
        "capacity": {
            "max_rate_held": max((s["rate"] for s in held), default=None),
            "broke_at": next((s["rate"] for s in steps if not s["held"]), None),
            "steps": steps,
        },
        "thresholds": [],
        "passed": bool(held),
        "failures": [] if held else ["no step held the SLA, not even the first rate"],
    }
    results.write(summary, folder)
    return summary
