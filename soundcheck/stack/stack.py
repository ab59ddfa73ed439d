"""Bringing the parts up together, stopping them, and saying how each one is."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from soundcheck.settings import StackSettings
from soundcheck.stack.errors import StackError, StartFailed
from soundcheck.stack.part import NotReady, Part, PartStatus, State
from soundcheck.stack.parts.balancer import Balancer
from soundcheck.stack.parts.booking import Booking
from soundcheck.stack.parts.elasticsearch import Elasticsearch
from soundcheck.stack.parts.exporters import EXPORTER_TYPES
from soundcheck.stack.parts.kafka import Kafka
from soundcheck.stack.parts.mariadb import MariaDB
from soundcheck.stack.parts.pipeline import Pipeline
from soundcheck.stack.parts.prometheus import Alertmanager, Prometheus
from soundcheck.stack.parts.redis import Redis
from soundcheck.stack.parts.redis_sentinel import RedisSentinel
from soundcheck.stack.parts.router import Router
from soundcheck.stack.parts.sandbox import Sandbox
from soundcheck.stack.ports import port_is_open

PART_TYPES: tuple[type[Part], ...] = (
    MariaDB,
    Redis,
    RedisSentinel,
    Kafka,
    Elasticsearch,
    Pipeline,
    Booking,
    Balancer,
    *EXPORTER_TYPES,
    Prometheus,
    Alertmanager,
    Sandbox,
    Router,
)
PROBE_INTERVAL_SECONDS = 0.25


@dataclass
class Phase:
    """Where one part is during `up`; shown as progress."""

    text: str
    since: float = field(default_factory=time.monotonic)
    done: bool = False
    failed: bool = False

    def elapsed(self) -> float:
        return time.monotonic() - self.since


class Progress(Protocol):
    def show(self, phases: dict[str, Phase]) -> None: ...


class QuietProgress:
    def show(self, phases: dict[str, Phase]) -> None:
        pass


class Stack:
    def __init__(self, settings: StackSettings, part_types: Sequence[type[Part]] = PART_TYPES):
        self.settings = settings
        self.parts = {part.name: part for p in part_types for part in p.instances(settings)}

    def part(self, name: str) -> Part:
        try:
            return self.parts[name]
        except KeyError:
            raise StackError(
                f"There is no part called {name!r}; the parts are: {', '.join(self.parts)}."
            ) from None

    def select(self, names: Iterable[str] | None) -> list[Part]:
        """The named parts; None means every part (an empty list means none)."""
        return list(self.parts.values()) if names is None else [self.part(n) for n in names]

    def status(self, names: Iterable[str] | None = None) -> list[PartStatus]:
        parts = self.select(names)
        with ThreadPoolExecutor(max_workers=max(1, len(parts))) as pool:
            return list(pool.map(lambda p: p.status(), parts))

    # --- up ---------------------------------------------------------------------------------
    def up(
        self, names: Iterable[str] | None = None, progress: Progress | None = None
    ) -> list[PartStatus]:
        """Start what is not running and wait for every part's real health check.

        Idempotent: running parts are left alone; crashed ones are started again. Every check
        that can fail before anything starts (binaries, Java, jars, ports) runs first.
        """
        progress = progress or QuietProgress()
        parts = self.select(names)
        phases: dict[str, Phase] = {}
        to_start: list[Part] = []
        to_wait: list[Part] = []
        for part, status in zip(parts, self.status([p.name for p in parts]), strict=True):
            if status.state is State.RUNNING:
                phases[part.name] = Phase("already running", done=True)
                to_wait.append(part)
            elif status.state is State.STARTING:
                phases[part.name] = Phase("starting (earlier)")
                to_wait.append(part)
            else:
                if status.state is State.UNHEALTHY:
                    part.process.stop()
                part.process.forget()
                phases[part.name] = Phase("checking")
                to_start.append(part)
        progress.show(phases)

        for part in to_start:
            part.check_installed()
        for part in to_start:
            if part.needs_java:
                phases[part.name] = Phase("fetching jars")
                progress.show(phases)
                part.fetch()
            phases[part.name] = Phase("checking ports")
        for part in to_start:
            part.check_ports_free()

        errors: list[StackError] = []
        lock = threading.Lock()
        ready = {p.name: threading.Event() for p in to_start + to_wait}

        def bring_up(part: Part, start: bool) -> None:
            try:
                if start:
                    after = part.starts_after
                    if part.starts_last:
                        after = tuple(n for n in ready if not self.parts[n].starts_last)
                    for name in after:
                        if name in ready:  # a failed one is reported by its own thread
                            phases[part.name] = Phase(f"waiting for {name}")
                            ready[name].wait()
                    phases[part.name] = Phase("starting")
                    part.start()
                self._wait_ready(part, phases)
                part.after_ready()
                phases[part.name].done = True
            except (
                Exception
            ) as error:  # any failure of one part is reported, not raised in a thread
                phases[part.name].failed = True
                if not isinstance(error, StackError):
                    error = StartFailed(f"{part.name} failed to start: {error!r}")
                with lock:
                    errors.append(error)
            finally:
                ready[part.name].set()

        threads = [
            threading.Thread(target=bring_up, args=(p, p in to_start), daemon=True)
            for p in to_start + to_wait
        ]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            progress.show(phases)
            time.sleep(PROBE_INTERVAL_SECONDS)
        progress.show(phases)
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise StackError("\n".join(str(e) for e in errors))
        return self.status([p.name for p in parts])

    def _wait_ready(self, part: Part, phases: dict[str, Phase]) -> None:
        record = part.process.record()
        started = record.started_at if record else time.time()
        deadline = started + self.settings.start_timeout_seconds
        last_problem = ""
        phase = phases[part.name]
        while True:
            if not part.process.is_alive():
                raise StartFailed(
                    f"{part.name} exited while starting. Last lines of {part.process.log_file}:\n"
                    f"{part.process.log_tail(15)}"
                )
            try:
                phase.text = "waiting for health check"
                part.probe()
                return
            except NotReady as why:
                last_problem = str(why)
            if time.time() > deadline:
                raise StartFailed(
                    f"{part.name} did not pass its health check within "
                    f"{self.settings.start_timeout_seconds:.0f} s ({last_problem}). See "
                    f"{part.process.log_file}; on a slow machine raise "
                    f"{self.settings.env_name('start_timeout_seconds')}."
                )
            time.sleep(PROBE_INTERVAL_SECONDS)

    # --- stop -------------------------------------------------------------------------------
    def stop(self, names: Iterable[str] | None = None) -> None:
        """Stop the named parts (all by default) and wait until their ports are closed."""
        parts = self.select(names)
        if not parts:
            return
        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            list(pool.map(lambda p: p.process.stop(), parts))
        deadline = time.monotonic() + 15
        for part in parts:
            for setting, port in part.port_settings().items():
                while port_is_open(self.settings.host, port):
                    if time.monotonic() > deadline:
                        raise StackError(
                            f"{part.name} was stopped but port {port} ({setting}) still answers."
                        )
                    time.sleep(0.1)

    def down(self) -> None:
        self.stop()

    @contextmanager
    def parts_up(
        self, names: Sequence[str], progress: Progress | None = None, keep: bool = False
    ) -> Iterator[Stack]:
        """Start the named parts that are not running; on leaving, stop exactly those (unless
        `keep`). Test tiers that need only a few parts use this instead of the whole stack."""
        running = {s.name for s in self.status(names) if s.state is State.RUNNING}
        self.up(names, progress)
        yield self
        started = [name for name in names if name not in running]
        if started and not keep:
            self.stop(started)

    def kill(self, name: str) -> None:
        """SIGKILL a part as a crash would (for drills); `status` then says crashed."""
        self.part(name).process.kill()
