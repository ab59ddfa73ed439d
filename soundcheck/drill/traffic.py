"""Background traffic while a drill runs: a `soundcheck load` scenario as open-model arrivals at a
modest fixed rate (so a slow answer never slows the offered load), in its own process (Locust
patches the standard library), until the drill writes its stop file. Its `client.json` has, per
second, every timed latency and every failed answer by request name and status."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from pathlib import Path
from typing import Any

from loadtest.fixtures import MariaDbFixtures
from loadtest.generator_process import start_generator
from loadtest.run import RunOptions, base_plan
from loadtest.scenarios import scenario as find_scenario
from loadtest.stages import Stage
from soundcheck.drill.definition import DrillError, Traffic
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import expire_queue_tokens

LONGEST_SECONDS = 3600.0  # the generator's own limit; the stop file ends it long before
STOP_WAIT_SECONDS = 60.0


class BackgroundTraffic:
    """Start with `start()`, end with `stop()` (returns the client figures); `kill()` if stuck."""

    def __init__(
        self, settings: StackSettings, traffic: Traffic, folder: Path, target: str | None = None
    ) -> None:
        self.settings = settings
        self.traffic = traffic
        self.target = target  # a booking service's URL; None: the stack's own
        self.folder = folder / "traffic"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.stop_file = self.folder / "stop"
        self.sending_file = self.folder / "sending"
        self.scenario = find_scenario(traffic.scenario)
        self.run_id = f"dr{int(time.time())}{secrets.token_hex(2)}"
        self.fixtures = MariaDbFixtures(settings, self.run_id)
        self.plan: dict[str, Any] = {}
        self.child: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.scenario.capacity_visitors == 0 and not self.scenario.fresh_arrivals:
            raise DrillError(
                f"{self.scenario.name} cannot be sent as arrivals at a fixed rate; "
                "use token-spike, reservation-stress, payment-soak or concert-read."
            )
        plan = base_plan(
            self.scenario,
            RunOptions(scenario=self.scenario.name, target=self.target),
            self.settings,
            self.run_id,
        )
        stages = (Stage(LONGEST_SECONDS, max(1, int(self.traffic.rate))),)
        plan["params"] = self.scenario.prepare(self.fixtures, stages, plan["think_seconds"])
        plan.update(
            model="open",
            rates=[self.traffic.rate],
            step_seconds=LONGEST_SECONDS,
            max_in_flight=max(50, int(self.traffic.rate * 30)),
            sla={"p95_ms": 500.0, "p99_ms": 1000.0, "error_rate_percent": 1.0},
            steps_after_break=True,
            stop_file=str(self.stop_file),
            sending_file=str(self.sending_file),
            per_second_detail=True,
        )
        self.plan = plan
        (self.folder / "plan.json").write_text(json.dumps(plan, indent=2))
        with (self.folder / "generator.log").open("w") as log:
            self.child = start_generator(
                ["run", str(self.folder / "plan.json")], stdout=log, stderr=subprocess.STDOUT
            )

    def sending(self) -> bool:
        """Whether the arrivals flow (the generator's visitors have started: queue tokens)."""
        return self.sending_file.exists()

    def ended(self) -> bool:
        return self.child is not None and self.child.poll() is not None

    def stop(self) -> dict[str, Any]:
        """End the arrivals, wait for the answers in flight, and return client.json (with the
        scenario's own checks under `checks`)."""
        self.stop_file.touch()
        if self.child is None:
            raise DrillError("The traffic was never started.")
        try:
            code = self.child.wait(timeout=STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            raise DrillError(
                f"The traffic generator did not stop; see {self.folder / 'generator.log'}."
            ) from None
        out = self.folder / "client.json"
        if code != 0 or not out.exists():
            raise DrillError(
                f"The traffic generator stopped with exit code {code}; "
                f"see {self.folder / 'generator.log'}."
            )
        client: dict[str, Any] = json.loads(out.read_text())
        client["checks"] = self.scenario.check(self.fixtures, self.plan["params"], client)
        expire_queue_tokens(self.settings, self.run_id)
        return client

    def kill(self) -> None:
        """The watchdog's way out: terminate, then SIGKILL."""
        if self.child is None or self.child.poll() is not None:
            return
        self.child.terminate()
        try:
            self.child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.child.kill()
            self.child.wait(timeout=10)
