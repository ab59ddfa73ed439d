"""The load itself, on Locust (child process only: importing Locust patches the standard library
for gevent). Reads a plan written by `loadtest.run`, runs it as a closed model (the scenario's
stages), an open model (capacity: arrivals at fixed rates), a master that waits for workers, or a
worker, and writes what it measured to `client.json` in the run's folder."""

from __future__ import annotations

import itertools
import json
import logging
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from gevent.pool import Pool
from locust import FastHttpUser, LoadTestShape, constant, events, task
from locust.contrib.fasthttp import FastResponse
from locust.env import Environment
from locust.exception import StopUser
from locust.log import setup_logging
from locust.rpc import Message
from locust.runners import MasterRunner, Runner, WorkerRunner
from locust.user.task import LOCUST_STATE_STOPPING

from loadtest.collector import Collector, summarize
from loadtest.scenario import Scenario, Visitor
from loadtest.scenarios import scenario as find_scenario
from loadtest.stages import Stage, total_seconds, users_at

PLAN_MESSAGE = "soundcheck-plan"
REPORT_KEY = "soundcheck"
PROGRESS_EVERY_SECONDS = 1.0
PLAIN_PROGRESS_EVERY_SECONDS = 10.0
# A user leaving (ramp-down, the end) finishes its iteration first: killed mid-request, a seat
# would be reserved with nobody counting the 201.
STOP_TIMEOUT_SECONDS = 60.0
PLAN_WAIT_SECONDS = 30.0

collector = Collector()
last_report: dict[str, float] = {}  # a master: when each worker last reported
workers_seen: list[str] = []
users_by_second: dict[int, int] = {}
state: dict[str, Any] = {"plan": None, "prefix": "lt", "step": None}
_user_numbers = itertools.count(1)
_fresh_numbers = itertools.count(1)


class PlanError(ValueError):
    """The plan file or a worker's arguments cannot be used; the message says why."""


# --- one virtual user's session ---------------------------------------------------------------
class LocustAnswer:
    def __init__(self, response: FastResponse | None) -> None:
        self._response = response
        self.status = int(response.status_code or 0) if response is not None else 0

    def body(self) -> dict[str, Any]:
        try:
            found = json.loads(self._response.text or "{}") if self._response else {}
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    def header(self, name: str) -> str | None:
        if self._response is None or self._response.headers is None:
            return None
        value = self._response.headers.get(name)
        return str(value) if value is not None else None


class LocustSession:
    """`loadtest.scenario.Session` on a FastHttpUser's client."""

    def __init__(self, user: FastHttpUser, params: dict[str, Any], step: int | None = None):
        self.user = user
        self.params = params
        self.user_id = f"{state['prefix']}-{next(_user_numbers)}"
        self.step = step

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...],
        name: str | None = None,
        measured: bool = True,
        json: Any = None,
        headers: dict[str, str] | None = None,
        tag: str | None = None,
        require: tuple[str, str] | None = None,
    ) -> LocustAnswer:
        context = {"measured": measured, "tag": tag, "step": self.step}
        with self.user.client.request(
            method,
            path,
            name=name or f"{method} {path}",
            json=json,
            headers=headers,
            catch_response=True,
            context=context,
        ) as response:
            answer = LocustAnswer(response)
            if answer.status not in expect:
                response.failure(f"{answer.status} (expected {expect}): {response.text!s:.200}")
            elif require and str(answer.body().get(require[0])) != require[1]:
                response.failure(f"{require[0]} is not {require[1]}: {response.text!s:.200}")
            else:
                response.success()
        return answer

    def sleep(self, seconds: float) -> None:
        if self.user._state == LOCUST_STATE_STOPPING:
            # Asked to leave (ramp-down, the end) while still queueing: leave now, not after
            # the stop timeout (Locust stops a user only while it waits between iterations).
            raise StopUser
        gevent.sleep(seconds)

    def fresh_user_id(self) -> str:
        return f"{state['prefix']}-f{next(_fresh_numbers)}"

    def random(self) -> float:
        return random.random()  # noqa: S311 - seat choice, not security


def on_request(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    context: dict[str, Any] | None = None,
    exception: BaseException | None = None,
    **_: Any,
) -> None:
    context = context or {}
    status = int(getattr(response, "status_code", 0) or 0)
    cache_hit = None
    if request_type == "GET" and response is not None and response.headers is not None:
        cache_hit = response.headers.get("X-Cache-Hit")
    collector.record(
        int(time.time()),
        name,
        bool(context.get("measured", True)),
        status,
        exception is None,
        float(response_time),
        cache_hit=cache_hit,
        tag=context.get("tag"),
        step=context.get("step"),
        error=str(exception) if exception else None,
    )


# --- closed model: the scenario's stages ------------------------------------------------------
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


def progress(runner: Runner, total: float, began: float, done: Event) -> None:
    """A live line: elapsed, users, requests/s, p95 and errors so far (stderr)."""
    live = sys.stderr.isatty()
    last_plain = 0.0
    while not done.is_set():
        gevent.sleep(PROGRESS_EVERY_SECONDS)
        now = time.time()
        users_by_second[int(now)] = runner.user_count
        stats = runner.stats.total
        p95 = stats.get_response_time_percentile(0.95) if stats.num_requests else 0
        errors = 100.0 * stats.fail_ratio
        line = (
            f"{now - began:6.0f}/{total:.0f} s  users {runner.user_count:5d}  "
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


# --- open model: capacity -----------------------------------------------------------------------
class ArrivalUser(FastHttpUser):
    """Sends arrivals on a schedule: each arrival is its own greenlet, so a slow answer never
    delays the next send (Locust's wait_time is a closed model: a user waits for its answer).
    Arrivals beyond `concurrency` in flight are dropped and counted: the server fell behind."""

    abstract = False
    host = "http://127.0.0.1:8000"
    concurrency = 1000
    wait_time = constant(0)
    finished: Event = Event()
    steps_out: list[dict[str, Any]] = []  # noqa: RUF012 - one instance per process

    @task
    def schedule(self) -> None:
        plan = state["plan"]
        scenario = find_scenario(plan["scenario"])
        visitors = self._visitors(scenario, plan)
        turn = itertools.cycle(visitors)
        pool = Pool(size=int(plan["max_in_flight"]))
        for index, rate in enumerate(plan["rates"]):
            self.steps_out.append(self._step(index, float(rate), plan, pool, turn))
            if not plan["steps_after_break"] and not step_held(
                self.steps_out[-1], collector.steps.get(index), plan
            ):
                break
        pool.join(timeout=30)
        ArrivalUser.finished.set()
        raise gevent.GreenletExit

    def _visitors(self, scenario: Scenario, plan: dict[str, Any]) -> list[tuple[Visitor, Any]]:
        started = []
        for _ in range(max(1, scenario.capacity_visitors)):
            session = LocustSession(self, plan["params"])
            visitor = scenario.visitor()
            visitor.start(session)
            started.append((visitor, session))
        return started

    def _step(
        self, index: int, rate: float, plan: dict[str, Any], pool: Pool, turn: Any
    ) -> dict[str, Any]:
        began = time.time()
        seconds = float(plan["step_seconds"])
        offered = dropped = 0
        worst_lag = 0.0
        next_at = time.monotonic()
        stop_at = next_at + seconds
        while next_at < stop_at:
            lag = time.monotonic() - next_at
            if lag < 0:
                gevent.sleep(-lag)
            worst_lag = max(worst_lag, lag)
            offered += 1
            if pool.full():
                dropped += 1
            else:
                visitor, session = next(turn)
                pool.spawn(self._arrival, visitor, session, index)
            next_at += 1.0 / rate
        return {
            "step": index,
            "rate": rate,
            "started_at": began,
            "ended_at": time.time(),
            "offered": offered,
            "dropped": dropped,
            "sender_lag_ms": worst_lag * 1000,
        }

    @staticmethod
    def _arrival(visitor: Visitor, session: LocustSession, index: int) -> None:
        arrival = LocustSession(session.user, session.params, step=index)
        arrival.user_id = session.user_id
        visitor.iteration(arrival)


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


def run_open(plan: dict[str, Any], out: Path) -> None:
    configure_users(plan)
    ArrivalUser.host = plan["target"]
    ArrivalUser.concurrency = int(plan["max_in_flight"])
    env = Environment(user_classes=[ArrivalUser], events=events)
    runner = env.create_local_runner()
    began = time.time()
    done = Event()
    total = float(plan["step_seconds"]) * len(plan["rates"])
    ticker = gevent.spawn(progress, runner, total, began, done)
    runner.start(1, spawn_rate=1)
    ArrivalUser.finished.wait()
    runner.quit()
    done.set()
    ticker.join(timeout=5)
    write_client(out, plan, began, time.time(), steps=ArrivalUser.steps_out)


# --- output ---------------------------------------------------------------------------------------
def write_client(
    out: Path,
    plan: dict[str, Any],
    began: float,
    ended: float,
    steps: list[dict[str, Any]] | None = None,
) -> None:
    client = summarize(collector, users_by_second, began, ended)
    client["user_prefix"] = plan["user_prefix"]
    if steps is not None:
        from loadtest.collector import percentile

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
