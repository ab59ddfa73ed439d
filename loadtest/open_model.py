"""The open model (capacity): arrivals sent at fixed rates whatever the answers take, step by step,
stopping at the first step that breaks the SLA unless asked to go on.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from gevent.pool import Pool
from locust import FastHttpUser, constant, events, task
from locust.env import Environment

from loadtest.client_output import note_in_flight, progress, step_held, write_client
from loadtest.closed_model import configure_users
from loadtest.locust_session import LocustSession, collector, state
from loadtest.scenario import Scenario, Visitor
from loadtest.scenarios import scenario as find_scenario


class ArrivalUser(FastHttpUser):
    """Sends arrivals on a schedule: each arrival is its own greenlet, so a slow answer never
    delays the next send (Locust's wait_time is a closed model: a user waits for its answer).
    Arrivals beyond `concurrency` in flight are dropped and counted: the server fell behind."""

    abstract = False
    host = "http://127.0.0.1:8000"
    concurrency = 1000
    wait_time = constant(0)
    finished: Event = Event()
    pool: Pool | None = None  # the arrivals in flight, for the progress line
    steps_out: list[dict[str, Any]] = []  # noqa: RUF012 - one instance per process

    @task
    def schedule(self) -> None:
        plan = state["plan"]
        scenario = find_scenario(plan["scenario"])
        turn = self._arrivals(scenario, plan)
        if plan.get("sending_file"):  # a drill injects its fault once the arrivals flow
            Path(plan["sending_file"]).touch()
        pool = ArrivalUser.pool = Pool(size=int(plan["max_in_flight"]))
        for index, rate in enumerate(plan["rates"]):
            self.steps_out.append(self._step(index, float(rate), plan, pool, turn))
            if not plan["steps_after_break"] and not step_held(
                self.steps_out[-1], collector.steps.get(index), plan
            ):
                break
        pool.join(timeout=30)
        ArrivalUser.finished.set()
        raise gevent.GreenletExit

    def _arrivals(self, scenario: Scenario, plan: dict[str, Any]) -> Iterator[tuple[Visitor, Any]]:
        """The (visitor, session) each arrival runs on: started visitors taking turns, or with
        `fresh_arrivals` a new user each time (started inside its arrival)."""
        if scenario.fresh_arrivals:
            return ((scenario.visitor(), None) for _ in itertools.count())
        started = []
        for _ in range(max(1, scenario.capacity_visitors)):
            session = LocustSession(self, plan["params"])
            visitor = scenario.visitor()
            visitor.start(session)
            started.append((visitor, session))
        return itertools.cycle(started)

    def _step(
        self, index: int, rate: float, plan: dict[str, Any], pool: Pool, turn: Any
    ) -> dict[str, Any]:
        began = time.time()
        seconds = float(plan["step_seconds"])
        offered = dropped = 0
        worst_lag = 0.0
        next_at = time.monotonic()
        stop_at = next_at + seconds
        stop_file = Path(plan["stop_file"]) if plan.get("stop_file") else None
        while next_at < stop_at:
            if stop_file is not None and stop_file.exists():
                break  # a drill's traffic ends when the drill says so
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
            note_in_flight(len(pool))
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

    def _arrival(self, visitor: Visitor, session: LocustSession | None, index: int) -> None:
        if session is None:  # a fresh user: its own session, started here
            arrival = LocustSession(self, state["plan"]["params"], step=index)
            visitor.start(arrival)
        else:
            arrival = LocustSession(session.user, session.params, step=index)
            arrival.user_id = session.user_id
        visitor.iteration(arrival)


def in_flight() -> int:
    """Arrivals sent and not yet answered."""
    return len(ArrivalUser.pool) if ArrivalUser.pool is not None else 0


def run_open(plan: dict[str, Any], out: Path) -> None:
    configure_users(plan)
    ArrivalUser.host = plan["target"]
    ArrivalUser.concurrency = int(plan["max_in_flight"])
    env = Environment(user_classes=[ArrivalUser], events=events)
    runner = env.create_local_runner()
    began = time.time()
    done = Event()
    total = float(plan["step_seconds"]) * len(plan["rates"])
    ticker = gevent.spawn(progress, runner, total, began, done, in_flight)
    runner.start(1, spawn_rate=1)
    ArrivalUser.finished.wait()
    runner.quit()
    done.set()
    ticker.join(timeout=5)
    write_client(out, plan, began, time.time(), steps=ArrivalUser.steps_out)
