"""Benchmark: CPU time per POST /queue/token of each side, counted by the kernel, in one run.

    SOUNDCHECK_HOME=... SOUNDCHECK_PORT_OFFSET=... .venv/bin/python bench/token_cpu.py \\
        [--requests 2000] [--clients 16] [--rounds 5] \\
        [--side NAME=KIND[,VARIABLE=VALUE...]]...

A side is the plain form (KIND `plain`, bench/plain_token.py), the service uninstrumented
(`off`) or instrumented with 100 % trace sampling (`on`), each beside the stack's own on a
database of its own with the service's gunicorn workers and threads; `VARIABLE=VALUE` are more
environment variables for it (`BOOKING_THREADS=4`), `driver=NAME` its MySQL driver
(SQLAlchemy's name: pymysql, or mysqldb where mysqlclient is installed) and `code=DIR` an older
checkout to run it from (`git archive COMMIT | tar -x -C DIR`; without `code=` a side runs
the checkout this virtualenv's editable install points at, whatever directory the command runs
in). Without `--side`: plain,
uninstrumented, instrumented.

Each round, the sides in an order that rotates from round to round, `--clients` threads send
`--requests` requests with fresh userIds over kept-alive connections (closed loop), then wait
`--settle` seconds for the spans and log lines still queued to leave. The figure of each part
(the side's gunicorn tree, MariaDB, Elasticsearch, the pipeline, this process's client threads)
is its CPU seconds (user + system, from /proc through psutil) over the round divided by the
requests answered; the median over rounds is printed, and the ratios of the sides' own CPU.
CPU, not throughput: on a machine shared with other work, req/s and latency measure the
neighbours, CPU time per request does not (capacity goes as 1 / CPU per request where the CPU
is the limit). Not a test.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import secrets
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from bench.plain_token import start_plain
from bench.side_services import free_port, start_service, wait_healthy
from loadtest.run import DEFAULT_RESULTS, stack_roots
from soundcheck.settings import StackSettings, load_settings
from soundcheck.stack.parts.booking import database_url
from soundcheck.stack.process import ManagedProcess

TARGET = "target"
CLIENT = "client"
PARTS = ("mariadb", "elasticsearch", "pipeline")
KINDS = {
    "off": {"SOUNDCHECK_INSTRUMENTATION": "off"},
    "on": {"SOUNDCHECK_INSTRUMENTATION": "on", "OTEL_TRACES_SAMPLER": "parentbased_always_on"},
}
DEFAULT_SIDES = ("plain=plain", "uninstrumented=off", "instrumented=on")


@dataclass
class Side:
    name: str
    kind: str
    overrides: dict[str, str] = field(default_factory=dict)
    driver: str | None = None
    code: Path | None = None
    url: str = ""
    pid: int = 0

    @classmethod
    def parse(cls, spec: str) -> Side:
        name, _, rest = spec.partition("=")
        kind, *pairs = rest.split(",")
        if kind not in ("plain", *KINDS):
            raise SystemExit(f"--side {spec!r}: KIND is plain, off or on")
        side = cls(name, kind)
        for pair in pairs:
            key, _, value = pair.partition("=")
            if key == "driver":
                side.driver = value
            elif key == "code":
                side.code = Path(value).resolve()
            else:
                side.overrides[key] = value
        return side

    def database(self, settings: StackSettings) -> str:
        return f"{settings.mariadb_database}_bench_{self.name}"

    def environment(self, settings: StackSettings) -> dict[str, str]:
        variables = {**KINDS.get(self.kind, {}), **self.overrides}
        if self.driver is not None:
            url = database_url(settings, self.database(settings), self.driver)
            variables["BOOKING_DATABASE_URL"] = url
        return variables

    def start(self, settings: StackSettings) -> ManagedProcess:
        if self.kind == "plain":
            port = free_port(settings.host)
            process = start_plain(
                settings,
                settings.home / "bench" / self.name,
                port,
                self.database(settings),
                self.environment(settings),
                self.code,
            )
            self.url = f"http://{settings.host}:{port}"
            wait_healthy(self.name, self.url, process)
        else:
            self.url, process, _ = start_service(
                settings, self.name, self.environment(settings), self.code
            )
        record = process.record()
        self.pid = record.pid if record is not None else 0
        return process


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """User + system CPU seconds of a process and its descendants (not this process's own
    children: the sides it started), by pid."""
    try:
        root = psutil.Process(pid)
        tree = [root] if pid == os.getpid() else [root, *root.children(recursive=True)]
    except psutil.Error:
        return {}
    seconds: dict[int, float] = {}
    for process in tree:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings; a process born in between counts from zero."""
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


def send(url: str, requests: int, clients: int, prefix: str) -> tuple[int, int]:
    """(answered 201, other answers) for `requests` token requests from `clients` threads."""
    address = urlsplit(url)
    numbers = itertools.count()
    created = [0] * clients
    failed = [0] * clients

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        while (number := next(numbers)) < requests:
            body = json.dumps({"userId": f"{prefix}-{number}"})
            headers = {"Content-Type": "application/json"}
            try:
                connection.request("POST", "/queue/token", body, headers)
                answer = connection.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                failed[index] += 1
                continue
            if answer.status == 201:
                created[index] += 1
            else:
                failed[index] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(created), sum(failed)


def measure(
    side: Side, roots: dict[str, int], args: argparse.Namespace, label: str
) -> dict[str, Any]:
    """One round of one side: CPU ms per answered request of the side and of each part."""
    pids = {
        TARGET: side.pid,
        **{part: roots[part] for part in PARTS if part in roots},
        CLIENT: os.getpid(),  # this process's client threads (nothing else runs in it meanwhile)
    }
    before = {part: tree_cpu_seconds(pid) for part, pid in pids.items()}
    started = time.monotonic()
    created, failed = send(side.url, args.requests, args.clients, label)
    elapsed = time.monotonic() - started
    time.sleep(args.settle)  # the export threads' last batches, not a readiness wait
    after = {part: tree_cpu_seconds(pid) for part, pid in pids.items()}
    cpu = {part: spent(before[part], after[part]) * 1000 / max(created, 1) for part in pids}
    return {"created": created, "failed": failed, "seconds": elapsed, "cpu_ms": cpu}


def median_cpu(rounds: list[dict[str, Any]]) -> dict[str, float]:
    parts = {part for r in rounds for part in r["cpu_ms"]}
    return {p: statistics.median(r["cpu_ms"].get(p, 0.0) for r in rounds) for p in sorted(parts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--settle", type=float, default=6.0)
    parser.add_argument("--side", action="append", help="NAME=KIND[,VARIABLE=VALUE...]")
    args = parser.parse_args()
    sides = [Side.parse(spec) for spec in args.side or DEFAULT_SIDES]
    settings = load_settings()
    roots = stack_roots(settings)
    run = secrets.token_hex(3)
    processes: list[ManagedProcess] = []
    results: dict[str, list[dict[str, Any]]] = {side.name: [] for side in sides}
    try:
        for side in sides:
            processes.append(side.start(settings))
            send(side.url, 200, args.clients, f"warm-{run}-{side.name}")  # pools, first queries
            print(f"{side.name}: {side.url}, gunicorn master pid {side.pid}", flush=True)
        print(f"load average at start: {os.getloadavg()}", flush=True)
        for index in range(args.rounds):
            shift = index % len(sides)
            for side in sides[shift:] + sides[:shift]:
                result = measure(side, roots, args, f"{run}-{side.name}-{index}")
                results[side.name].append(result)
                print(
                    f"round {index + 1} {side.name:<16} {result['created']:>6} created "
                    f"{result['failed']:>4} failed {result['seconds']:6.1f} s  "
                    + " ".join(f"{p} {v:.2f}" for p, v in result["cpu_ms"].items()),
                    flush=True,
                )
        print(f"load average at end: {os.getloadavg()}")
    finally:
        for process in processes:
            process.stop()
    medians = {name: median_cpu(rounds) for name, rounds in results.items()}
    print("median CPU ms per request (side's own tree, then the parts every request costs):")
    for name, parts in medians.items():
        print(f"  {name:<16} " + " ".join(f"{p} {v:.2f}" for p, v in parts.items()))
    print("capacity of one side relative to another where the CPU is the limit (their CPU ratio):")
    for first, second in itertools.combinations(sides, 2):
        a, b = medians[first.name][TARGET], medians[second.name][TARGET]
        print(f"  {second.name} / {first.name}: {a:.2f} / {b:.2f} ms = {a / b:.2f}")
    out = DEFAULT_RESULTS / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-token-cpu.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "rounds": results, "medians": medians}))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
