"""Benchmark: Elasticsearch's CPU per token request's documents, by index variant, in one run.

    SOUNDCHECK_HOME=... SOUNDCHECK_PORT_OFFSET=... .venv/bin/python bench/es_index_cost.py \\
        [--requests 5000] [--bulk 1000] [--rounds 3] [--variant NAME]...

One POST /queue/token leaves four documents in Elasticsearch: its log line and its three spans
(the server span, the SELECT, the INSERT), shaped here as the pipeline writes them (ECS names,
ids like the pipeline's: the same id on a resend overwrites instead of doubling). Each round,
every variant in an order that rotates from round to round gets a fresh pair of indices (a logs
one, a traces one, with the stack's own mappings and settings but for what the variant changes),
`--requests` requests' documents in bulks of `--bulk` requests' documents, then a refresh and a
flush; the figure is the stack Elasticsearch's CPU seconds (user + system of its threads, from
/proc through psutil) over that, divided by the requests. The median over rounds is printed,
each against `current`. The indices are deleted after their round. Not a test.

Variants: `current` (the templates as they are); `resource-stored` (the spans' resource
attributes kept in `_source`, not indexed: every span of a process repeats them, and
`service.name` is its own field); `auto-ids` and `async-translog` are there to price what the
pipeline will not give up: its own ids (a retried bulk must not double a record) and an fsync
before a bulk is acknowledged (an acknowledged record must survive a crash).
"""

from __future__ import annotations

import argparse
import copy
import json
import secrets
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from bench.token_cpu import spent, tree_cpu_seconds
from loadtest.run import stack_roots
from pipeline.indices import STORED_ONLY, component_templates
from soundcheck.settings import load_settings

Mappings = dict[str, Any]


def template_body(name: str) -> dict[str, Any]:
    return copy.deepcopy(component_templates(ilm=False)[name]["template"])


def index_bodies() -> dict[str, dict[str, Any]]:
    """The stack's settings and mappings for a logs index and a traces index."""
    settings = template_body("soundcheck-settings")["settings"]
    return {
        kind: {"settings": copy.deepcopy(settings), **template_body(f"soundcheck-{kind}-mappings")}
        for kind in ("logs", "traces")
    }


def resource_stored(bodies: dict[str, dict[str, Any]]) -> None:
    bodies["traces"]["mappings"]["properties"]["resource"]["properties"]["attributes"] = dict(
        STORED_ONLY
    )


def async_translog(bodies: dict[str, dict[str, Any]]) -> None:
    for body in bodies.values():
        body["settings"]["index"]["translog"] = {"durability": "async"}


VARIANTS: dict[str, Callable[[dict[str, dict[str, Any]]], None]] = {
    "current": lambda bodies: None,
    "resource-stored": resource_stored,
    "auto-ids": lambda bodies: None,  # the bodies as they are; the bulk lines carry no _id
    "async-translog": async_translog,
}

RESOURCE = {
    "deployment.environment": "local",
    "telemetry.sdk.language": "python",
    "telemetry.sdk.name": "opentelemetry",
    "telemetry.sdk.version": "1.45.1",
    "service.instance.id": str(uuid.uuid4()),
    "service.name": "booking",
}


def request_documents(number: int, at: float) -> list[tuple[str, dict[str, Any]]]:
    """The four documents of one token request, as ("logs" | "traces", document)."""
    trace, server, select, insert = (secrets.token_hex(n) for n in (16, 8, 8, 8))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{number % 1000000:06d}Z"

    def span(span_id: str, name: str, kind: str, attributes: dict[str, Any]) -> dict[str, Any]:
        duration = 300_000 + number % 1_700_000
        return {
            "@timestamp": stamp,
            "trace.id": trace,
            "span.id": span_id,
            **({"parent.id": server} if span_id != server else {}),
            "service.name": "booking",
            "span.name": name,
            "span.kind": kind,
            "span.status.code": "UNSET",
            "event.outcome": "unknown",
            "event.duration": duration,
            "span.duration_ms": duration / 1e6,
            "span.attributes": attributes,
            "resource.attributes": RESOURCE,
            "scope.name": "soundcheck.instrumentation",
        }

    database = {"db.system": "mysql", "db.name": "soundcheck", "server.address": "127.0.0.1"}
    log = {
        "@timestamp": stamp,
        "log.level": "INFO",
        "message": "POST /queue/token answered 201",
        "ecs.version": "8.11.0",
        "service.name": "booking",
        "service.environment": "local",
        "event.dataset": "booking.log",
        "log.logger": "soundcheck.http",
        "log.origin.file.name": "http_requests.py",
        "log.origin.file.line": 74,
        "log.origin.function": "record_request",
        "process.pid": 4380 + number % 3,
        "process.thread.name": f"ThreadPoolExecutor-0_{number % 16}",
        "trace.id": trace,
        "span.id": server,
        "event.action": "http.request.completed",
        "event.outcome": "success",
        "http.request.method": "POST",
        "url.path": "/queue/token",
        "http.route": "/queue/token",
        "http.response.status_code": 201,
        "event.duration": 1_900_000 + number % 500_000,
    }
    http = {
        "http.request.method": "POST",
        "url.path": "/queue/token",
        "url.scheme": "http",
        "http.route": "/queue/token",
        "client.address": "127.0.0.1",
        "http.response.status_code": 201,
    }
    statements = {
        "SELECT": "SELECT queue_tokens.token FROM queue_tokens WHERE queue_tokens.user_id = %s",
        "INSERT": "INSERT INTO queue_tokens (token, user_id, issued_at) VALUES (%s, %s, %s)",
    }
    sql = [
        span(
            span_id,
            f"{operation} soundcheck",
            "client",
            {
                **database,
                "db.operation.name": operation,
                "db.statement": statement,
            },
        )
        for span_id, (operation, statement) in zip(
            (select, insert), statements.items(), strict=True
        )
    ]
    return [("logs", log), ("traces", span(server, "POST /queue/token", "server", http))] + [
        ("traces", document) for document in sql
    ]


def bulks(
    indices: dict[str, str], requests: int, per_bulk: int, with_ids: bool, prefix: str
) -> Iterator[bytes]:
    """NDJSON bulk bodies of `per_bulk` requests' documents each."""
    lines: list[str] = []
    at = time.time()
    for number in range(requests):
        for position, (kind, document) in enumerate(request_documents(number, at)):
            action: dict[str, Any] = {"_index": indices[kind]}
            if with_ids:
                action["_id"] = f"{prefix}-{number * 4 + position}"
            lines.append(json.dumps({"index": action}))
            lines.append(json.dumps(document))
        if (number + 1) % per_bulk == 0 or number + 1 == requests:
            yield ("\n".join(lines) + "\n").encode()
            lines.clear()


def measure(
    client: httpx.Client, es_pid: int, variant: str, args: argparse.Namespace, run: str
) -> float:
    """ES CPU ms per request's documents for one variant's fresh indices."""
    bodies = index_bodies()
    VARIANTS[variant](bodies)
    indices = {kind: f"bench-es-cost-{run}-{variant}-{kind}" for kind in bodies}
    payloads = list(bulks(indices, args.requests, args.bulk, variant != "auto-ids", run))
    try:
        for kind, name in indices.items():
            client.put(f"/{name}", json=bodies[kind]).raise_for_status()
        before = tree_cpu_seconds(es_pid)
        for payload in payloads:
            answer = client.post(
                "/_bulk", content=payload, headers={"Content-Type": "application/x-ndjson"}
            )
            answer.raise_for_status()
            if answer.json()["errors"]:
                raise RuntimeError(f"{variant}: Elasticsearch refused documents")
        names = ",".join(indices.values())
        client.post(f"/{names}/_refresh").raise_for_status()
        client.post(f"/{names}/_flush").raise_for_status()
        after = tree_cpu_seconds(es_pid)
        counted = int(client.get(f"/{names}/_count").json()["count"])
        if counted != args.requests * 4:
            raise RuntimeError(f"{variant}: {counted} documents, not {args.requests * 4}")
        return float(spent(before, after) * 1000 / args.requests)
    finally:
        client.delete(f"/{','.join(indices.values())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--bulk", type=int, default=1000, help="requests' documents per bulk")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS))
    args = parser.parse_args()
    variants = args.variant or list(VARIANTS)
    if "current" not in variants:
        variants.insert(0, "current")
    settings = load_settings()
    es_pid = stack_roots(settings).get("elasticsearch")
    if es_pid is None:
        raise SystemExit("Elasticsearch is not running: start the stack (`soundcheck up`).")
    run = secrets.token_hex(3)
    results: dict[str, list[float]] = {variant: [] for variant in variants}
    address = f"http://{settings.host}:{settings.elasticsearch_port}"
    with httpx.Client(base_url=address, timeout=120) as client:
        for index in range(args.rounds):
            shift = index % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                cost = measure(client, es_pid, variant, args, f"{run}-{index}")
                results[variant].append(cost)
                print(f"round {index + 1} {variant:<16} {cost:.3f} ms per request", flush=True)
    base = statistics.median(results["current"])
    print("median Elasticsearch CPU ms per token request's four documents:")
    for variant, costs in results.items():
        median = statistics.median(costs)
        print(f"  {variant:<16} {median:.3f}   {median / base:.2f}x current")


if __name__ == "__main__":
    main()
