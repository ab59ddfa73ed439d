"""The background process beside gunicorn: outbox relay, Kafka consumers and the timers.

One process with a thread per job: every job waits on I/O (Kafka, MariaDB), so threads are
enough, and one process keeps exactly one relay (rows are published in order by one producer).
SIGTERM stops every loop; consumers leave the current event uncommitted, so nothing is skipped.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from confluent_kafka import KafkaException

from booking_app import metrics, reservations, waiting_queue
from booking_app.cache import seats_key
from booking_app.consumers import CONSUMERS, EventConsumer, ensure_topics
from booking_app.relay import OutboxRelay
from booking_app.services import Services, build_services
from booking_app.settings import load_settings

log = logging.getLogger("booking_app.worker")


def every(
    interval: float, job: Callable[[], object], name: str
) -> Callable[[threading.Event], None]:
    def loop(stop: threading.Event) -> None:
        while not stop.wait(interval):
            try:
                job()
            except Exception:
                log.exception(f"{name} failed", extra={"event": f"{name}.failed"})

    return loop


def activation_loop(svc: Services, stop: threading.Event) -> None:
    """Activate on the timer, and also the moment an ACTIVE token expires (plan 4-5: an expired
    token frees its place at once, not at the next tick). Looks at the next expiry at least
    every second, so tokens activated meanwhile are noticed too."""
    interval = svc.settings.activation_interval_seconds
    next_tick = time.monotonic() + interval
    wait = 0.0
    while not stop.wait(wait):
        try:
            now = time.monotonic()
            until_expiry = waiting_queue.seconds_until_next_expiry(svc)
            if now >= next_tick:
                waiting_queue.activate_tokens(svc, trigger="timer")
                next_tick = now + interval
                until_expiry = waiting_queue.seconds_until_next_expiry(svc)
            elif until_expiry is not None and until_expiry <= 0:
                waiting_queue.activate_tokens(svc, trigger="token_expired")
                until_expiry = waiting_queue.seconds_until_next_expiry(svc)
            metrics.queue_worker_alive(time.time())
        except Exception:
            log.exception("queue activation failed", extra={"event": "queue.activation.failed"})
            until_expiry = None
        candidates = [1.0, next_tick - time.monotonic()]
        if until_expiry is not None:
            candidates.append(until_expiry)
        wait = max(0.05, min(candidates))


def expire_holds(svc: Services) -> None:
    for schedule_id in reservations.expire_unpaid(svc):
        svc.cache.evict(seats_key(schedule_id))


def wait_for_topics(svc: Services, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            ensure_topics(svc)
            return
        except KafkaException as error:
            log.warning(
                "Kafka not reachable yet; retrying",
                extra={"event": "kafka.unavailable", "error.message": str(error)},
            )
            stop.wait(2)


def run_worker() -> None:
    from booking_app.instrument import setup_process

    setup_process("booking-worker")
    svc = build_services(load_settings(), serves_requests=False)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    settings = svc.settings
    jobs: list[tuple[str, Callable[[threading.Event], None]]] = [
        ("activation-timer", lambda stop: activation_loop(svc, stop)),
        (
            "hold-expiry",
            every(
                settings.hold_sweep_interval_seconds,
                lambda: expire_holds(svc),
                "reservation.expiry",
            ),
        ),
    ]
    threads = [
        threading.Thread(target=job, args=(stop,), name=name, daemon=True) for name, job in jobs
    ]
    for thread in threads:
        thread.start()
    wait_for_topics(svc, stop)
    kafka_jobs: list[tuple[str, Callable[[threading.Event], None]]] = [
        ("outbox-relay", OutboxRelay(svc).run),
        *((spec.group, EventConsumer(svc, spec).run) for spec in CONSUMERS),
    ]
    for name, job in kafka_jobs:
        thread = threading.Thread(target=job, args=(stop,), name=name, daemon=True)
        thread.start()
        threads.append(thread)
    log.info(
        "worker started",
        extra={"event": "worker.started", "worker.jobs": [t.name for t in threads]},
    )
    stop.wait()
    for thread in threads:
        thread.join(timeout=15)
    svc.db.close()
