"""Benchmark: what `instrumentation.logs` costs per record against plain `logging`, same run.

    .venv/bin/python bench/logging_overhead.py [--records 50000] [--rounds 3]

Four configurations, each logging the same INFO record with two `extra` fields from one thread:
  plain      stdlib logging, `%(asctime)s %(levelname)s %(name)s %(message)s` to /dev/null
  ecs-stdout ours, ECS JSON to /dev/null, no shipping
  ecs-ship   ours, ECS JSON to /dev/null + forward shipping to a live acking receiver
             (a separate process, so it does not share this one's GIL)
  ecs-down   ours, shipping to a port where nothing listens (buffer fills, then drops)
Prints records/s, µs per record (best of the rounds) and each one's ratio to `plain`.
Not a test: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import socket
import sys
import time
from typing import Any

import msgpack

from instrumentation.logs import configure_logging
from instrumentation.settings import TelemetrySettings


def acking_receiver(port_queue: Any) -> None:
    """A forward-protocol receiver that acks every chunk (runs in its own process)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port_queue.put(listener.getsockname()[1])
    while True:
        connection, _ = listener.accept()
        unpacker = msgpack.Unpacker(raw=False)
        while data := connection.recv(1 << 20):
            unpacker.feed(data)
            for message in unpacker:
                options = message[2] if len(message) > 2 else {}
                if isinstance(options, dict) and "chunk" in options:
                    connection.sendall(msgpack.packb({"ack": options["chunk"]}))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(records: int) -> float:
    """Seconds to log `records` records through whatever the root logger has now."""
    log = logging.getLogger("bench.booking")
    started = time.perf_counter()
    for number in range(records):
        log.info(
            "reservation %d created",
            number,
            extra={"event": "reservation.created", "reservation.id": number},
        )
    return time.perf_counter() - started


def plain(devnull: Any) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(devnull)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    ports: Any = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=acking_receiver, args=(ports,), daemon=True)
    receiver.start()
    live_port = ports.get(timeout=10)
    devnull = open(os.devnull, "w")  # noqa: SIM115
    sys.stdout = devnull  # our stdout handler writes here

    def ours(port: int | None) -> Any:
        settings = TelemetrySettings(
            instrumentation="on",
            fluent_enabled=port is not None,
            fluent_port=port or 9,
            log_buffer_records=max(args.records * 2, 10_000),
        )
        return configure_logging("bench", settings)

    results: dict[str, float] = {}
    acked_best = float("inf")
    for name in ("plain", "ecs-stdout", "ecs-ship", "ecs-down"):
        best = float("inf")
        for _ in range(args.rounds):
            setup = None
            if name == "plain":
                plain(devnull)
            elif name == "ecs-stdout":
                setup = ours(None)
            elif name == "ecs-ship":
                setup = ours(live_port)
            else:
                setup = ours(free_port())
            started = time.perf_counter()
            seconds = run(args.records)
            shipper = setup.shipper if setup is not None else None
            if name == "ecs-ship" and shipper is not None:
                # Shipping is asynchronous: also time until the receiver acked every record.
                if not shipper.flush(120):
                    print("warning: receiver did not ack everything", file=sys.__stdout__)
                acked_best = min(acked_best, time.perf_counter() - started)
            if setup is not None:
                setup.close()
            best = min(best, seconds)
        results[name] = best

    out = sys.__stderr__ if sys.__stdout__ is None else sys.__stdout__
    print(f"records per round: {args.records}, best of {args.rounds} rounds", file=out)
    print(f"{'configuration':<12} {'records/s':>12} {'µs/record':>10} {'vs plain':>9}", file=out)
    for name, seconds in results.items():
        rate = args.records / seconds
        ratio = results["plain"] / seconds
        print(
            f"{name:<12} {rate:>12,.0f} {seconds / args.records * 1e6:>10.1f} {ratio:>9.2f}",
            file=out,
        )
    print(
        f"ecs-ship until every record was acked by the receiver: "
        f"{args.records / acked_best:,.0f} records/s",
        file=out,
    )
    receiver.terminate()


if __name__ == "__main__":
    main()
