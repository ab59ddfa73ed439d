"""The router's webhook ingest rate and answer time, and alert-to-PagerDuty latency through the
router next to Alertmanager's own `pagerduty_configs` to the same sandbox, in the same run.

Starts its own router and Alertmanager (beside the stack's, like the e2e tests) and needs the
stack's sandbox (`soundcheck up sandbox`, with the same SOUNDCHECK_* environment). Not a test:
it prints figures (and a markdown section with `--markdown`), it asserts nothing.

    .venv/bin/python bench/router_ingest.py --webhooks 400 --alerts-per-webhook 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.lean_sender import LeanSender
from sandbox.client import SandboxClient
from soundcheck.settings import load_settings
from soundcheck.stack.parts.sandbox import SANDBOX_ROUTING_KEY
from tests.support.harness import AlertmanagerProcess, RouterProcess, router_environment, spare_port
from tests.support.polling import eventually

PORT_STEP = 21
SERVER_BOUNDS = (0.025, 0.05, 0.1)  # buckets of the router's http_request_duration_seconds
NATIVE_ROUTE = """  routes:
    - matchers: ['path="native"']
      receiver: native
"""
NATIVE_RECEIVER = """  - name: native
    pagerduty_configs:
      - routing_key: "{key}"
        url: "{sandbox}/v2/enqueue"
        send_resolved: true
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def webhook(run: str, n: int, alerts: int) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "version": "4",
        "groupKey": f"{{}}:{{bench={run}-{n}}}",
        "status": "firing",
        "receiver": "router",
        "externalURL": "http://alertmanager",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": f"Bench{n}x{i}", "priority": "P2", "run": run},
                "annotations": {"summary": "benchmark"},
                "startsAt": now,
                "fingerprint": f"{n:08x}{i:08x}",
            }
            for i in range(alerts)
        ],
    }


def measure_ingest(
    router: RouterProcess, token: str, webhooks: int, per: int, workers: int
) -> dict[str, float]:
    run = uuid.uuid4().hex[:6]
    bodies = [webhook(run, n, per) for n in range(webhooks)]
    client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    times: list[float] = []

    def send(body: dict[str, Any]) -> None:
        began = time.perf_counter()
        client.post(f"{router.url}/alerts", json=body).raise_for_status()
        times.append(time.perf_counter() - began)

    began = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(send, bodies))
    elapsed = time.perf_counter() - began
    return {
        "alerts_per_second": webhooks * per / elapsed,
        "webhooks_per_second": webhooks / elapsed,
        "p50_ms": percentile(times, 0.50) * 1000,
        "p99_ms": percentile(times, 0.99) * 1000,
    }


def measure_offered(
    router: RouterProcess, token: str, webhooks: int, per: int, rate: float
) -> dict[str, float]:
    """Open loop: webhooks sent at a fixed rate whatever the answers do, as Alertmanager does;
    each answer time counts from the request's scheduled send time, so a stalled router cannot
    hide its stall by slowing the sender down (no coordinated omission)."""
    run = uuid.uuid4().hex[:6]
    bodies = [json.dumps(webhook(run, n, per)).encode() for n in range(webhooks)]
    times: list[float] = []
    failures: list[str] = []

    async def send(sender: LeanSender, body: bytes, scheduled: float) -> None:
        status, answer = await sender.post(body)
        if status != 200:
            failures.append(f"{status} {answer[:200]!r}")
        times.append(time.perf_counter() - scheduled)

    async def offer() -> float:
        sender = LeanSender(router.url, token)
        began = time.perf_counter()
        tasks = []
        for n, body in enumerate(bodies):
            scheduled = began + n / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            tasks.append(asyncio.create_task(send(sender, body, scheduled)))
        await asyncio.gather(*tasks)
        sender.close()
        return time.perf_counter() - began

    elapsed = asyncio.run(offer())
    if failures:
        raise RuntimeError(f"{len(failures)} webhooks refused, first: {failures[0]}")
    return {
        "alerts_per_second": webhooks * per / elapsed,
        "webhooks_per_second": webhooks / elapsed,
        "p50_ms": percentile(times, 0.50) * 1000,
        "p99_ms": percentile(times, 0.99) * 1000,
        "max_ms": max(times) * 1000,
    }


def answered_within(router: RouterProcess) -> dict[float, float]:
    """The router's own count of POST /alerts answers per histogram bound (seconds): what the
    server measured, without the sender's own scheduling in it."""
    counts: dict[float, float] = {}
    for line in httpx.get(f"{router.url}/metrics", timeout=10).text.splitlines():
        if line.startswith("http_request_duration_seconds_bucket") and '"/alerts"' in line:
            bound = line.split('le="')[1].split('"')[0]
            counts[float(bound)] = float(line.split()[-1])
    return counts


def pending(router: RouterProcess) -> int:
    for line in httpx.get(f"{router.url}/metrics", timeout=10).text.splitlines():
        if line.startswith('router_queue_depth{state="pending"}'):
            return int(float(line.split()[-1]))
    raise RuntimeError("the router's /metrics has no router_queue_depth")


def measure_latency(
    am: AlertmanagerProcess, sandbox: SandboxClient, count: int
) -> dict[str, list[float]]:
    """Seconds from posting to Alertmanager to the sandbox's PagerDuty receiving the trigger."""
    latencies: dict[str, list[float]] = {"router": [], "native": []}
    for n in range(count):
        for path in ("router", "native"):
            name = f"BenchLatency{path}{n}{uuid.uuid4().hex[:4]}"
            posted = time.time()
            am.post_alerts(
                [
                    {
                        "labels": {"alertname": name, "priority": "P0", "path": path},
                        "annotations": {"summary": name},
                    }
                ]
            )

            def arrived(name: str = name) -> float | None:
                for event in sandbox.received("pagerduty"):
                    if event["kind"] == "trigger" and name in str(event["body"]):
                        return float(event["at"])
                return None

            latencies[path].append(
                eventually(arrived, 30, f"{name} at PagerDuty", every=0.02) - posted
            )
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=400)
    parser.add_argument("--alerts-per-webhook", type=int, default=10)
    parser.add_argument("--workers", type=int, default=8, help="concurrent webhook senders")
    parser.add_argument("--latency-alerts", type=int, default=20)
    parser.add_argument(
        "--offered-alerts-per-second",
        type=float,
        default=1000.0,
        help="open-loop rate for the answer-time measurement (0: skip it)",
    )
    parser.add_argument("--offered-seconds", type=float, default=10.0)
    args = parser.parse_args()

    settings = load_settings()
    sandbox = SandboxClient(f"http://{settings.host}:{settings.sandbox_port}")
    sandbox.reset()
    token = secrets.token_urlsafe(24)
    home = settings.home / "bench-router"
    shutil.rmtree(home, ignore_errors=True)
    router = RouterProcess(
        home / "router",
        router_environment(
            settings, spare_port(settings, settings.router_port + PORT_STEP), home / "router", token
        ),
    )
    router.start()
    am = AlertmanagerProcess(
        home / "alertmanager",
        spare_port(settings, settings.alertmanager_port + PORT_STEP),
        router.url,
        token,
        host=settings.host,
        timings=("100ms", "1s", "1h"),
        extra_receivers=NATIVE_RECEIVER.format(key=SANDBOX_ROUTING_KEY, sandbox=sandbox.url),
        routes=NATIVE_ROUTE,
    )
    try:
        ingest = measure_ingest(router, token, args.webhooks, args.alerts_per_webhook, args.workers)
        eventually(lambda: pending(router) == 0, 600, "the ingested alerts delivered", every=1)
        offered = None
        if args.offered_alerts_per_second > 0:
            rate = args.offered_alerts_per_second / args.alerts_per_webhook
            before = answered_within(router)
            offered = measure_offered(
                router, token, int(rate * args.offered_seconds), args.alerts_per_webhook, rate
            )
            after = answered_within(router)
            total = after[float("inf")] - before.get(float("inf"), 0.0)
            for bound in SERVER_BOUNDS:
                offered[f"server_{bound}"] = (after[bound] - before.get(bound, 0.0)) / total
            eventually(lambda: pending(router) == 0, 600, "the offered alerts delivered", every=1)
        am.start()
        latency = measure_latency(am, sandbox, args.latency_alerts)
    finally:
        am.stop()
        router.stop()
    router_median = statistics.median(latency["router"])
    native_median = statistics.median(latency["native"])
    print(
        f"ingest: {ingest['alerts_per_second']:.0f} alerts/s "
        f"({ingest['webhooks_per_second']:.0f} webhooks/s of {args.alerts_per_webhook} alerts), "
        f"answer p50 {ingest['p50_ms']:.1f} ms, p99 {ingest['p99_ms']:.1f} ms"
    )
    if offered:
        print(
            f"offered {args.offered_alerts_per_second:.0f} alerts/s "
            f"for {args.offered_seconds:.0f} s (open loop): "
            f"handled {offered['alerts_per_second']:.0f} alerts/s, answer p50 "
            f"{offered['p50_ms']:.1f} ms, p99 {offered['p99_ms']:.1f} ms, "
            f"max {offered['max_ms']:.1f} ms"
        )
        print(
            "  the router's own histogram (request in → answer out): "
            + ", ".join(f"{offered[f'server_{b}']:.1%} ≤ {b * 1000:.0f} ms" for b in SERVER_BOUNDS)
        )
    print(
        f"alert → sandbox PagerDuty: router median {router_median * 1000:.0f} ms "
        f"(p95 {percentile(latency['router'], 0.95) * 1000:.0f} ms), Alertmanager native median "
        f"{native_median * 1000:.0f} ms (p95 {percentile(latency['native'], 0.95) * 1000:.0f} ms), "
        f"ratio {router_median / native_median:.2f}"
    )


if __name__ == "__main__":
    main()
