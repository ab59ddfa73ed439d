"""The closed model: the scenario's virtual users following its stages (a `LoadTestShape`), run
locally or by a master that sends the plan to its workers.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust import FastHttpUser, LoadTestShape, constant, events, task
from locust.env import Environment
from locust.rpc import Message
from locust.runners import MasterRunner, Runner, WorkerRunner

from loadtest.client_output import progress, write_client
from loadtest.locust_session import LocustSession, collector, state
from loadtest.scenario import Visitor
from loadtest.scenarios import scenario as find_scenario
from loadtest.stages import Stage, total_seconds, users_at

PLAN_MESSAGE = "soundcheck-plan"
REPORT_KEY = "soundcheck"
# A user leaving (ramp-down, the end) finishes its iteration first: killed mid-request, a seat
# would be reserved with nobody counting the 201.
STOP_TIMEOUT_SECONDS = 60.0
PLAN_WAIT_SECONDS = 30.0
last_report: dict[str, float] = {}  # a master: when each worker last reported
workers_seen: list[str] = []


class PlanError(ValueError):
    """The plan file or a worker's arguments cannot be used; the message says why."""


class ScenarioUser(FastHttpUser):
    """One of the scenario's virtual users (the same class on a master's workers)."""

    abstract = False
    host = "http://127.0.0.1:8000"
    wait_time = constant(1.0)

    def on_start(self) -> None:
        deadline = time.monotonic() + PLAN_WAIT_SECONDS
        while state["plan"] is None and time.monotonic() < deadline:
            gevent.sleep(0.1)  # a worker's users may start a moment before the plan arrived
        plan = state["plan"]
        self.session = LocustSession(self, plan["params"])
        self.visitor: Visitor = find_scenario(plan["scenario"]).visitor()
        began = time.monotonic()
        self.visitor.start(self.session)
        collector.starts.append(time.monotonic() - began)

    @task
    def iteration(self) -> None:
        self.visitor.iteration(self.session)


class StagesShape(LoadTestShape):
    def __init__(self, stages: tuple[Stage, ...]) -> None:
        super().__init__()
        self.stages = stages
        self.spawn_rate = float(max(1, max(s.users for s in stages)))

    def tick(self) -> tuple[int, float] | None:
        users = users_at(self.stages, self.get_run_time())
        return None if users is None else (users, self.spawn_rate)


def configure_users(plan: dict[str, Any]) -> None:
    """Point the user class at the plan: target, think time, the scenario."""
    state["plan"] = plan
    state["prefix"] = plan["user_prefix"] + plan.get("worker_suffix", "")
    ScenarioUser.host = plan["target"]
    ScenarioUser.wait_time = constant(plan["think_seconds"])


def stages_of(plan: dict[str, Any]) -> tuple[Stage, ...]:
    return tuple(Stage(float(s["seconds"]), int(s["users"])) for s in plan["stages"])


def run_closed(plan: dict[str, Any], out: Path) -> None:
    configure_users(plan)
    stages = stages_of(plan)
    env = Environment(
        user_classes=[ScenarioUser],
        shape_class=StagesShape(stages),
        events=events,
        stop_timeout=STOP_TIMEOUT_SECONDS,
    )
    runner: Runner
    if plan.get("workers"):
        runner = env.create_master_runner(plan["master_bind_host"], plan["master_bind_port"])
        wait_for_workers(runner, plan)
    else:
        runner = env.create_local_runner()
    began = time.time()
    done = Event()
    ticker = gevent.spawn(progress, runner, total_seconds(stages), began, done)
    runner.start_shape()
    while runner.shape_greenlet is not None and not runner.shape_greenlet.dead:
        gevent.sleep(0.2)
    if isinstance(runner, MasterRunner):
        collect_last_reports(runner)
    runner.quit()
    ended = time.time()
    done.set()
    ticker.join(timeout=5)
    write_client(out, plan, began, ended)


def wait_for_workers(runner: Runner, plan: dict[str, Any]) -> None:
    """A master starts once `workers` workers are connected; each is sent the plan first."""
    if not isinstance(runner, MasterRunner):
        raise PlanError("Only a master waits for workers.")
    wanted, deadline = int(plan["workers"]), time.monotonic() + plan["worker_wait_seconds"]

    def on_report(client_id: str, data: dict[str, Any]) -> None:
        if REPORT_KEY in data:
            collector.merge(data[REPORT_KEY])
        last_report[client_id] = time.time()

    events.worker_report.add_listener(on_report)
    sys.stderr.write(
        f"master: waiting for {wanted} worker(s) on {plan['master_bind_host']}:"
        f"{plan['master_bind_port']}\n"
    )
    while runner.worker_count < wanted:
        if time.monotonic() > deadline:
            raise PlanError(
                f"Only {runner.worker_count} of {wanted} workers connected within "
                f"{plan['worker_wait_seconds']:.0f} s. Start them with `soundcheck load worker "
                f"--master-host <this machine>` on the other machines."
            )
        gevent.sleep(0.5)
    # Sent once every worker is there (one sent on connect could arrive before the worker has
    # registered for it); it travels before the spawn messages on the same socket.
    runner.send_message(PLAN_MESSAGE, plan)
    workers_seen.extend(runner.clients.keys())


def collect_last_reports(runner: MasterRunner) -> None:
    """Wait until every worker has stopped its users and sent the report that follows: a worker
    reports every few seconds, and the answers since its last report are only in the next.
    Then tell each to quit (Locust's quit only reaches workers that have not stopped)."""
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS + 30
    while runner.worker_count and time.monotonic() < deadline:
        gevent.sleep(0.2)
    stopped_at = time.time()
    while time.monotonic() < deadline and any(
        last_report.get(worker, 0) <= stopped_at for worker in workers_seen
    ):
        gevent.sleep(0.2)
    for worker in workers_seen:
        runner.server.send_to_client(Message("quit", None, worker))


def run_worker(master_host: str, master_port: int) -> None:
    """A worker: its users are configured by the plan the master sends when it connects."""
    env = Environment(user_classes=[ScenarioUser], events=events, stop_timeout=STOP_TIMEOUT_SECONDS)
    runner = env.create_worker_runner(master_host, master_port)
    if not isinstance(runner, WorkerRunner):
        raise PlanError("Locust did not make a worker runner.")

    def on_plan(msg: Any, **_: Any) -> None:
        # The worker's own id in its userIds: two workers never share a user.
        configure_users({**msg.data, "worker_suffix": f"w{runner.client_id[-6:]}"})

    runner.register_message(PLAN_MESSAGE, on_plan)
    events.report_to_master.add_listener(
        lambda client_id, data: data.__setitem__(REPORT_KEY, collector.drain())
    )
    if runner.greenlet is not None:
        runner.greenlet.join()
