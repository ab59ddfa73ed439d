"""One drill run, the way Chaos Toolkit and LitmusChaos run experiments, plus what they do not
know (pages, loss, time to page): steady state → traffic → fault (method) → hold → repair
(rollbacks, always) → recovery → checks → verdicts → journal.json and report.html."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sandbox.client import SandboxClient
from soundcheck import REPO_ROOT
from soundcheck.drill import guard
from soundcheck.drill import journal as journals
from soundcheck.drill.actions import DrillContext, Finding, run_activity
from soundcheck.drill.aftermath import measure
from soundcheck.drill.definition import Activity, Drill, DrillError
from soundcheck.drill.observe import Observer
from soundcheck.drill.polling import wait_for
from soundcheck.drill.report import write_report
from soundcheck.drill.steady import await_steady_state
from soundcheck.drill.traffic import BackgroundTraffic
from soundcheck.drill.verdicts import judge, score, verdict
from soundcheck.stack.part import State
from soundcheck.stack.stack import Stack

DEFAULT_RESULTS = REPO_ROOT / "results"
BASELINE_SECONDS = 5.0  # traffic before the fault: the "outside the window" figures start here
TRAFFIC_START_SECONDS = 120.0  # the generator's start and its visitors' queue tokens
AFTER_SECONDS = 5.0  # and after recovery
PROGRESS_EVERY_SECONDS = 5.0
WATCHDOG_SPARE_SECONDS = 300.0


@dataclass
class DrillOptions:
    results: Path = DEFAULT_RESULTS
    settle_seconds: float = 180.0  # how long to wait for the steady state before refusing
    traffic: bool = True
    command: str = ""
    settings_name: str = "full"
    only_expected_alerts: bool = False  # steady state: other alerts may fire (the demo)
    deadline_seconds: float | None = None  # the watchdog's (default: from the drill's budgets)
    budget_alerts_since: float | None = None  # steady state: a game day's own error-budget alerts


def seen_so_far(observer: Observer, fault_at: float) -> str:
    parts = []
    for name, entry in sorted(observer.timeline()["alerts"].items()):
        if entry["before_the_drill"]:
            continue
        stages = [
            f"{label} +{entry[key] - fault_at:.1f} s"
            for key, label in (
                ("pending", "pending"),
                ("firing", "firing"),
                ("alertmanager", "in Alertmanager"),
                ("paged", "paged"),
                ("slack", "on Slack"),
                ("resolved", "resolved"),
                ("page_resolved", "page resolved"),
            )
            if entry[key] is not None
        ]
        parts.append(f"{name} " + ", ".join(stages))
    return "; ".join(parts) or "no alert yet"


class DrillRun:
    def __init__(
        self, stack: Stack, drill: Drill, options: DrillOptions, say: Callable[[str], None]
    ) -> None:
        self.stack, self.drill, self.options, self.say = stack, drill, options, say
        settings = stack.settings
        self.sandbox = SandboxClient(f"http://{settings.host}:{settings.sandbox_port}")
        self.context = DrillContext(stack, self.sandbox)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.folder = options.results / f"{stamp}-drill-{drill.name}"
        self.journal = journals.new_journal(drill, options.settings_name, options.command)
        self.stop = guard.StopFlag()
        self.observer: Observer | None = None
        self.traffic: BackgroundTraffic | None = None
        self.client: dict[str, Any] | None = None

    @property
    def watcher(self) -> Observer:
        if self.observer is None:
            raise DrillError("The observer was not started.")
        return self.observer

    def phase(self, name: str) -> None:
        self.journal["phase"] = name
        self.say(f"— {name} —")

    def run(self) -> dict[str, Any]:
        self.folder.mkdir(parents=True, exist_ok=False)
        j = self.journal
        j["started"] = time.time()
        with self.stop:
            injected = owes_repair = False
            try:
                self.repair_owed()
                self.phase("steady state")
                await_steady_state(
                    self.stack,
                    self.sandbox,
                    self.drill.expect.alerts,
                    self.options.settle_seconds,
                    self.say,
                    self.options.only_expected_alerts,
                    self.options.budget_alerts_since,
                    self.stop.is_set,
                )
                j["steady_states"]["before"] = {"met": True, "at": time.time()}
                owes_repair = bool(self.drill.setup)  # the rollbacks undo what setup starts
                self.set_up()
                self.start_watching()
                injected = owes_repair = True
                self.inject_and_hold()
            except DrillError as error:
                self.fail(str(error), injected)
            except Exception as error:
                self.fail(f"{type(error).__name__}: {error}", injected)
                j["exception"] = traceback.format_exc()
            finally:
                if owes_repair:
                    self.repair()
            if injected:
                self.recover()
            self.finish(owes_repair)
        return j

    def watchdog_seconds(self) -> float:
        if self.options.deadline_seconds is not None:
            return self.options.deadline_seconds
        hold = max(self.drill.hold_seconds, self.drill.expect.page_within + 60)
        return hold + self.drill.expect.recover_within + WATCHDOG_SPARE_SECONDS

    def fail(self, message: str, injected: bool) -> None:
        stopped = self.stop.reason in ("interrupted", "terminated")
        self.journal["status"] = "failed" if injected else ("interrupted" if stopped else "aborted")
        self.journal["failed_step"] = {"phase": self.journal["phase"], "error": message}
        self.say(f"[red]{message}[/]")

    def repair_owed(self) -> None:
        owed = guard.owed_repairs(self.stack.settings.home)
        if owed is None:
            return
        name, rollbacks = owed
        self.say(
            f"repairing first what the interrupted drill {name} left: "
            + ", ".join(a.name for a in rollbacks)
        )
        for activity in rollbacks:
            run_activity(self.context, activity)
        guard.repaired(self.stack.settings.home)

    def set_up(self) -> None:
        """The drill's `setup` activities (a service of its own for the traffic); a repair is
        owed from the first one on."""
        if not self.drill.setup:
            return
        self.phase("setup")
        guard.owe_repair(self.stack.settings.home, self.drill.name, self.drill.repairs)
        for activity in self.drill.setup:
            self.say(f"setup: {activity.name}")
            self.record("setup", activity, partial(run_activity, self.context, activity))

    def start_watching(self) -> None:
        self.phase("traffic")
        began = time.time()
        self.observer = Observer(self.stack.settings, self.sandbox, began)
        self.observer.start()
        if self.options.traffic:
            self.traffic = BackgroundTraffic(
                self.stack.settings, self.drill.traffic, self.folder, self.context.traffic_target
            )
            self.traffic.start()
            self.context.markers.start()
            self.say(
                f"{self.drill.traffic.scenario} at {self.drill.traffic.rate:g} arrivals/s; "
                f"the fault comes {BASELINE_SECONDS:g} s after the arrivals begin"
            )
            traffic = self.traffic
            wait_for(
                lambda: traffic.sending() or traffic.ended(),
                TRAFFIC_START_SECONDS,
                stop=self.stop.is_set,
            )
            if not traffic.sending() and not self.stop.is_set():
                raise DrillError(
                    f"The background traffic did not start within {TRAFFIC_START_SECONDS:g} s; "
                    f"see {traffic.folder / 'generator.log'}."
                )
            self.stop.wait(BASELINE_SECONDS)

    def record(self, kind: str, activity: Activity, do: Callable[[], Any]) -> None:
        entry: dict[str, Any] = {
            "activity": activity.name,
            "func": activity.func,
            "arguments": activity.arguments,
            "start": time.time(),
        }
        self.journal[kind].append(entry)
        try:
            result = do()
            if isinstance(result, Finding):  # a probe's measurement, judged with the checks
                self.journal["probe_checks"].append(result.check)
                result = result.output
            entry["output"] = str(result)
            entry["status"] = "succeeded"
        except Exception as error:
            entry["status"] = "failed"
            entry["exception"] = f"{type(error).__name__}: {error}"
            raise
        finally:
            entry["end"] = time.time()
            entry["duration"] = round(entry["end"] - entry["start"], 3)

    def inject_and_hold(self) -> None:
        if self.stop.is_set():
            return
        self.phase("fault")
        guard.owe_repair(self.stack.settings.home, self.drill.name, self.drill.repairs)
        self.stop.arm_watchdog(self.watchdog_seconds())  # from here on, a repair is owed
        window = self.journal["window"]
        window["fault_started"] = fault_at = time.time()
        for activity in self.drill.method:
            self.say(f"fault: {activity.name}")
            self.record("run", activity, partial(run_activity, self.context, activity))
            if activity.pause_after and self.stop.wait(activity.pause_after):
                break
        self.phase("hold")
        self.hold(fault_at)

    def paged(self) -> bool:
        return all(self.watcher.seen(a, "paged") for a in self.drill.expect.alerts)

    def hold(self, fault_at: float) -> None:
        drill = self.drill
        longest = drill.hold_seconds
        if drill.hold_until_paged and drill.expect.alerts:
            longest = max(drill.hold_seconds, drill.expect.page_within + 60)
        next_say = 0.0
        while not self.stop.is_set():
            elapsed = time.time() - fault_at
            held = elapsed >= drill.hold_seconds
            if held and (not drill.hold_until_paged or self.paged() or elapsed >= longest):
                break
            if elapsed >= next_say:
                self.say(f"fault +{elapsed:.0f} s: {seen_so_far(self.watcher, fault_at)}")
                next_say = elapsed + PROGRESS_EVERY_SECONDS
            self.stop.wait(0.5)

    def repair(self) -> None:
        """Every rollback, each tried twice, whatever stopped the drill; a Ctrl-C now changes
        nothing (the flag is already up or is ignored until the repair is done)."""
        self.phase("repair")
        window = self.journal["window"]
        window["fault_ended"] = window["repair_started"] = time.time()
        errors = []
        for activity in self.drill.rollbacks:
            for attempt in (1, 2):
                self.journal["repair"]["attempts"] += 1
                try:
                    self.say(f"repair: {activity.name}")
                    self.record(
                        "rollbacks", activity, partial(run_activity, self.context, activity)
                    )
                    break
                except Exception as error:
                    if attempt == 2:
                        errors.append(f"{activity.name}: {error}")
        window["repair_finished"] = time.time()
        self.journal["repair"].update(ok=not errors, error="; ".join(errors) or None)
        if not errors and not self.drill.teardown:
            guard.repaired(self.stack.settings.home)

    def tear_down(self) -> None:
        """Undo the drill's `setup` once the traffic has stopped; a failure fails the repair."""
        errors = []
        for activity in self.drill.teardown:
            self.say(f"teardown: {activity.name}")
            try:
                self.record("teardown", activity, partial(run_activity, self.context, activity))
            except Exception as error:
                errors.append(f"{activity.name}: {error}")
        repair = self.journal["repair"]
        if errors:
            repair.update(ok=False, error="; ".join([repair["error"] or "", *errors]).strip("; "))
        elif repair["ok"]:
            guard.repaired(self.stack.settings.home)

    def recovered(self) -> bool:
        alerts = self.watcher.timeline()["alerts"]
        for name in self.drill.expect.alerts:
            entry = alerts.get(name, {})
            if entry.get("pending") and not entry.get("resolved"):
                return False
            if entry.get("paged") and not entry.get("page_resolved"):
                return False
            if entry.get("alertmanager") and not entry.get("paged"):
                return False  # a page is owed: its delivery is still being retried
        return all(s.state is State.RUNNING for s in self.stack.status())

    def recover(self) -> None:
        self.phase("recovery")
        began = time.time()
        next_say = 0.0
        while (
            not self.stop.is_set() and time.time() - began < self.drill.expect.recover_within + 60
        ):
            if self.recovered():
                break
            if time.time() - began >= next_say:
                fault_at = self.journal["window"]["fault_started"]
                self.say(
                    f"repaired +{time.time() - began:.0f} s: {seen_so_far(self.watcher, fault_at)}"
                )
                next_say = time.time() - began + PROGRESS_EVERY_SECONDS
            self.stop.wait(1.0)
        self.stop.wait(AFTER_SECONDS)

    def finish(self, owes_repair: bool) -> None:
        j = self.journal
        self.phase("checks")
        self.context.markers.stop()
        if self.traffic is not None:
            try:
                self.client = self.traffic.stop()
            except DrillError as error:
                j["traffic_error"] = str(error)
        if owes_repair:
            self.tear_down()
        if self.observer is not None:
            self.observer.stop()
            j["timeline"] = self.observer.timeline()
        if j["window"]["fault_started"] is not None:
            self.measure()
        if j["status"] == "running":
            j["status"] = (
                "interrupted" if self.stop.reason in ("interrupted", "terminated") else "completed"
            )
            if self.stop.reason == "timeout":
                j["status"] = "failed"
                j["failed_step"] = {"phase": "watchdog", "error": "the drill ran past its deadline"}
        j["stop_reason"] = self.stop.reason
        j["checks"] = judge(self.drill, j) if j["window"]["fault_started"] else []
        j["score"] = score(j["checks"])
        j["verdict"] = (
            verdict(j["checks"], j["status"])
            if j["checks"]
            else ("Stopped" if j["status"] == "interrupted" else "Fail")
        )
        j["ended"] = time.time()
        j["folder"] = str(self.folder)
        journals.write(j, self.folder)
        write_report(j, self.folder)

    def measure(self) -> None:
        measure(self.journal, self.drill, self.client, self.context)


def run_drill(
    stack: Stack, drill: Drill, options: DrillOptions, say: Callable[[str], None]
) -> dict[str, Any]:
    """Run one drill against a running stack; returns its journal (also written, with the
    report, to results/<time>-drill-<name>/)."""
    return DrillRun(stack, drill, options, say).run()
