"""CPU (and the booking service's memory) of every stack process and of the load generator,
sampled once a second with psutil while the load runs."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

SAMPLE_SECONDS = 1.0
GENERATOR = "load generator"


@dataclass
class Samples:
    """Per second: host CPU (% of all cores), CPU per part and per process (% of one core)."""

    cores: int = field(default_factory=lambda: psutil.cpu_count() or 1)
    times: list[float] = field(default_factory=list)
    host_cpu: list[float] = field(default_factory=list)
    parts: dict[str, list[float]] = field(default_factory=dict)
    processes: dict[str, list[float]] = field(default_factory=dict)
    booking_rss_bytes: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cores": self.cores,
            "times": self.times,
            "host_cpu_percent": self.host_cpu,
            "parts_cpu_percent": self.parts,
            "processes_cpu_percent": self.processes,
            "booking_rss_bytes": self.booking_rss_bytes,
        }


def label(part: str, root: psutil.Process, process: psutil.Process) -> str:
    """A name a person recognises: the booking service's master, web workers, background worker."""
    if part != "booking":
        return part if process.pid == root.pid else f"{part} child {process.pid}"
    if process.pid == root.pid:
        return "booking master"
    try:
        command = " ".join(process.cmdline())
    except psutil.Error:
        command = ""
    if "booking_app worker" in command:
        return "booking background worker"
    if "booking_app metrics" in command:
        return "booking metrics server"
    return f"booking web worker {process.pid}"


class ProcessSampler(threading.Thread):
    def __init__(self, roots: dict[str, int]) -> None:
        super().__init__(name="process-sampler", daemon=True)
        self.roots = dict(roots)
        self.samples = Samples()
        self._stopping = threading.Event()
        self._known: dict[int, psutil.Process] = {}
        self._lock = threading.Lock()

    def add(self, part: str, pid: int) -> None:
        with self._lock:
            self.roots[part] = pid

    def stop(self) -> Samples:
        self._stopping.set()
        self.join(timeout=10)
        return self.samples

    def run(self) -> None:
        psutil.cpu_percent(None)
        while not self._stopping.wait(SAMPLE_SECONDS):
            self._sample()

    def _tree(self, pid: int) -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def _cpu(self, process: psutil.Process) -> float | None:
        """% of one core since the last sample; None on a process's first sample."""
        known = self._known.get(process.pid)
        if known is None:
            self._known[process.pid] = process
            process.cpu_percent(None)
            return None
        try:
            return float(known.cpu_percent(None))
        except psutil.Error:
            return None

    def _sample(self) -> None:
        s = self.samples
        index = len(s.times)
        s.times.append(time.time())
        s.host_cpu.append(psutil.cpu_percent(None))
        rss = 0.0
        with self._lock:
            roots = dict(self.roots)
        for part, pid in roots.items():
            tree = self._tree(pid)
            total = 0.0
            for process in tree:
                cpu = self._cpu(process)
                if cpu is None:
                    continue
                total += cpu
                name = label(part, tree[0], process)
                s.processes.setdefault(name, [0.0] * index).append(cpu)
                if part == "booking":
                    with contextlib.suppress(psutil.Error):
                        rss += process.memory_info().rss
            s.parts.setdefault(part, [0.0] * index).append(total)
        s.booking_rss_bytes.append(rss)
        for series in (*s.parts.values(), *s.processes.values()):
            if len(series) < index + 1:
                series.append(0.0)
