"""Benchmark: a ticket opening's first instant. `--requests` POST /queue/token let go at the same
moment, each from its own open connection, at the stack's booking service with free places.

    SOUNDCHECK_HOME=... SOUNDCHECK_PORT_OFFSET=... .venv/bin/python bench/token_burst.py \\
        [--requests 48] [--rounds 3]

48 is the stack's request threads (3 gunicorn workers x 16): the CI test whose customers all
arrived at once, one answered 503 behind the queue's activation lock. Each round prints the
status codes and the median and slowest answer; the round's tokens are expired after it, so the
next one starts with the same free places. Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from soundcheck.settings import load_settings
from soundcheck.stack.parts.booking import expire_queue_tokens

USER_PREFIX = "bench-burst-"


def one_round(base_url: str, requests: int) -> list[tuple[int, float]]:
    """(status, seconds) of each request of one burst."""
    ready = threading.Barrier(requests)
    run = uuid.uuid4().hex[:8]

    def ask(n: int) -> tuple[int, float]:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            client.get("/health")  # the connection is open before the barrier lets go
            ready.wait()
            began = time.perf_counter()
            answer = client.post("/queue/token", json={"userId": f"{USER_PREFIX}{run}-{n}"})
            return answer.status_code, time.perf_counter() - began

    with ThreadPoolExecutor(max_workers=requests) as pool:
        return list(pool.map(ask, range(requests)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=48, help="token requests per burst")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings()
    base_url = f"http://{settings.host}:{settings.booking_port}"
    for number in range(1, args.rounds + 1):
        answers = one_round(base_url, args.requests)
        expire_queue_tokens(settings, USER_PREFIX)
        seconds = [took for _, took in answers]
        codes = dict(sorted(Counter(status for status, _ in answers).items()))
        print(
            f"round {number}: {codes}  median {statistics.median(seconds) * 1000:.0f} ms  "
            f"slowest {max(seconds) * 1000:.0f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
