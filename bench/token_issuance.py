"""Benchmark: POST /queue/token throughput and latency, instrumented vs uninstrumented, same run.

    SOUNDCHECK_HOME=... SOUNDCHECK_PORT_OFFSET=... .venv/bin/soundcheck up
    SOUNDCHECK_HOME=... SOUNDCHECK_PORT_OFFSET=... \
        .venv/bin/python bench/token_issuance.py [--concurrency 16] [--seconds 20] [--rounds 2]

Starts two booking services beside the stack's own (same code, same MariaDB/Redis, each its own
database, 2 gunicorn workers, no background worker): one with `SOUNDCHECK_INSTRUMENTATION=on`
and 100 % trace sampling (spans exported to the stack's pipeline, logs shipped to it), one with
`SOUNDCHECK_INSTRUMENTATION=off`. Then, in alternating rounds, `--concurrency` client threads
each send POST /queue/token with a fresh userId for `--seconds`. Prints requests/s, p50/p95/p99
per side and the ratio instrumented/uninstrumented. Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid

import httpx

from bench.side_services import start_service
from soundcheck.settings import load_settings
from soundcheck.stack.process import ManagedProcess


def start(side: str, instrumentation: str) -> tuple[str, ManagedProcess, str]:
    return start_service(
        load_settings(),
        side,
        {
            "SOUNDCHECK_INSTRUMENTATION": instrumentation,
            "OTEL_TRACES_SAMPLER": "parentbased_always_on",
            "BOOKING_WORKERS": "2",
        },
    )


def load(url: str, concurrency: int, seconds: float) -> tuple[int, int, list[float]]:
    """(ok, errors, latencies in s) of `concurrency` threads for `seconds`."""
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client_loop() -> None:
        mine: list[float] = []
        ok = errors = 0
        with httpx.Client(base_url=url, timeout=10) as client:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    answer = client.post("/queue/token", json={"userId": uuid.uuid4().hex[:20]})
                    good = answer.status_code == 201
                except httpx.HTTPError:
                    good = False
                mine.append(time.perf_counter() - started)
                ok, errors = (ok + 1, errors) if good else (ok, errors + 1)
        with lock:
            latencies.extend(mine)
            counts["ok"] += ok
            counts["errors"] += errors

    threads = [threading.Thread(target=client_loop) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts["ok"], counts["errors"], latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    sides = {"instrumented": start("on", "on"), "uninstrumented": start("off", "off")}
    results: dict[str, list[tuple[int, int, list[float]]]] = {name: [] for name in sides}
    try:
        for url, _, _ in sides.values():
            load(url, args.concurrency, 3)  # warm-up: connections, first queries
        for _ in range(args.rounds):
            for name, (url, _, _) in sides.items():
                results[name].append(load(url, args.concurrency, args.seconds))
    finally:
        for _, process, _ in sides.values():
            process.stop()
    rates = {}
    print(
        f"POST /queue/token, concurrency {args.concurrency}, {args.rounds} x {args.seconds:.0f} s"
    )
    print(f"{'side':<16}{'req/s':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name, runs in results.items():
        ok = sum(r[0] for r in runs)
        errors = sum(r[1] for r in runs)
        latencies = [x for r in runs for x in r[2]]
        rates[name] = ok / (args.rounds * args.seconds)
        print(
            f"{name:<16}{rates[name]:>9.1f}{errors:>8}"
            f"{statistics.median(latencies) * 1000:>9.1f}"
            f"{percentile(latencies, 0.95) * 1000:>9.1f}{percentile(latencies, 0.99) * 1000:>9.1f}"
        )
    print(
        f"ratio instrumented/uninstrumented throughput: "
        f"{rates['instrumented'] / rates['uninstrumented']:.3f}"
    )


if __name__ == "__main__":
    main()
