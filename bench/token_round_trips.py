"""Benchmark: what one POST /queue/token asks of MariaDB, counted by MariaDB itself (statements,
pings, new connections per request), for the service now, the plain form and, with `--before`,
an older checkout. Counts, not times: the same on a busy machine as on a quiet one.

    SOUNDCHECK_HOME=... SOUNDCHECK_PORT_OFFSET=... .venv/bin/python bench/token_round_trips.py \\
        [--requests 200] [--before DIR]

Each side runs beside the stack's own on a database of its own (bench/side_services.py); the
requests go one at a time with fresh userIds after a warm-up that fills the side's pool, and
the deltas of MariaDB's global status counters over them are divided by the requests. Run it
on a stack nobody else sends requests to: the counters are the whole server's.
"""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path

import httpx

from bench.token_capacity import ALWAYS_SAMPLE, Starter, plain, service
from soundcheck.settings import StackSettings, load_settings
from soundcheck.stack.parts.mariadb import app_connection

# Questions: statements from clients (COMMIT too); Com_admin_commands: pings and the like.
COUNTERS = (
    "Questions",
    "Com_admin_commands",
    "Com_select",
    "Com_insert",
    "Com_commit",
    "Com_rollback",
)
CONNECTIONS = "Connections"
# What reading the counters adds between the two readings: the second SHOW and its connection.
OWN = {"Questions": 1, CONNECTIONS: 1}


def status(settings: StackSettings) -> dict[str, int]:
    with app_connection(settings) as conn, conn.cursor() as cursor:
        cursor.execute("SHOW GLOBAL STATUS")
        return {str(name): int(value) for name, value in cursor.fetchall() if str(value).isdigit()}


def send(url: str, requests: int) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(requests):
            answer = client.post("/queue/token", json={"userId": uuid.uuid4().hex[:20]})
            answer.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--before", type=Path, help="a checkout whose service runs as 'before'")
    args = parser.parse_args()
    settings = load_settings()
    sides: dict[str, Starter] = {
        "plain": plain,
        "service": service("on", {"SOUNDCHECK_INSTRUMENTATION": "on", **ALWAYS_SAMPLE}),
    }
    if args.before is not None:
        sides["before"] = service(
            "before", {"SOUNDCHECK_INSTRUMENTATION": "on", **ALWAYS_SAMPLE}, args.before.resolve()
        )
    print(f"per POST /queue/token, {args.requests} requests one at a time, queue full")
    print(f"{'side':<10}" + "".join(f"{c:>19}" for c in (*COUNTERS, CONNECTIONS)))
    for name, starter in sides.items():
        url, process = starter(settings)
        try:
            send(url, 100)  # warm-up: past the 50 ACTIVE places, the queue is full
            before = status(settings)
            send(url, args.requests)
            after = status(settings)
        finally:
            process.stop()
        per_request = [
            (after[c] - before[c] - OWN.get(c, 0)) / args.requests for c in (*COUNTERS, CONNECTIONS)
        ]
        print(f"{name:<10}" + "".join(f"{v:>19.2f}" for v in per_request), flush=True)


if __name__ == "__main__":
    main()
