"""The delivery worker: claims due deliveries, sends them, records outcomes, retries with backoff.

Claims are leases in the store, so two routers on one database never send the same delivery at
the same time, and a crashed router's work is taken up again. Per (target, destination, alert)
deliveries go in order: a resolve waits for its trigger (it needs the Slack ts / Jira key).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import aliased

from router.context import links_for
from router.metrics import DELIVERIES, DELIVERY_LATENCY
from router.notifiers.base import Notifier
from router.outcome import Delivered, GiveUp, Job, Outcome, RetryLater
from router.settings import RouterSettings
from router.store import (
    DEAD,
    DELIVERED,
    GIVEN_UP,
    PENDING,
    AlertEvent,
    Delivery,
    Store,
    TargetRef,
)

log = logging.getLogger(__name__)


def backoff_seconds(attempts: int, initial: float, maximum: float) -> float:
    """Exponential backoff with full jitter, so many failed deliveries do not retry in step."""
    ceiling = min(maximum, initial * (2 ** max(0, attempts - 1)))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


class Worker:
    def __init__(
        self, settings: RouterSettings, store: Store, notifiers: dict[str, Notifier]
    ) -> None:
        self.settings = settings
        self.store = store
        self.notifiers = notifiers
        self.owner = settings.instance_name()
        self.stopping = threading.Event()
        self.wake = threading.Event()  # set when there is new work: no polling delay
        self.pool = ThreadPoolExecutor(
            max_workers=settings.worker_threads, thread_name_prefix="deliver"
        )
        self.thread = threading.Thread(target=self.run, name="delivery-worker", daemon=True)
        self.busy: set[int] = set()
        self.lock = threading.Lock()

    def start(self) -> None:
        released = self.store.release_leases(self.owner)
        if released:
            log.info("worker.leases_released", extra={"count": released})
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        self.thread.join(timeout=5)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def nudge(self) -> None:
        self.wake.set()

    def alive(self) -> bool:
        return self.thread.is_alive()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                claimed = self.claim()
            except Exception:
                log.exception("worker.claim_failed")
                claimed = []
            for delivery_id, interrupted in claimed:
                with self.lock:
                    self.busy.add(delivery_id)
                self.pool.submit(self.attempt, delivery_id, interrupted)
            if not claimed:
                self.wake.wait(self.settings.poll_interval_seconds)
                self.wake.clear()

    def claim(self) -> list[tuple[int, bool]]:
        """Lease up to `worker_threads` due deliveries whose predecessors are all finished,
        the highest priority first, then the longest due.

        The same transaction counts the attempt and marks each in flight, so a crash from here
        on is detectable (the next attempt checks the target before sending again); it returns
        each id with whether an earlier attempt was interrupted that way.
        """
        now = time.time()
        with self.lock:
            free = self.settings.worker_threads - len(self.busy)
        if free <= 0:
            return []
        earlier = aliased(Delivery)
        blocked = exists().where(
            earlier.target == Delivery.target,
            earlier.destination == Delivery.destination,
            earlier.identity == Delivery.identity,
            earlier.state == PENDING,
            earlier.id < Delivery.id,
        )
        with self.store.session() as session:
            candidates = session.execute(
                select(Delivery.id, Delivery.in_flight)
                .join(AlertEvent, AlertEvent.id == Delivery.event_id)
                .where(
                    Delivery.state == PENDING,
                    Delivery.next_attempt_at <= now,
                    or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
                    ~blocked,
                )
                # P0 first: a page never waits behind a storm of warnings ("P0" < "P1" < ...)
                .order_by(AlertEvent.priority, Delivery.next_attempt_at, Delivery.id)
                .limit(free)
            ).all()
            claimed = []
            for delivery_id, interrupted in candidates:
                result = session.execute(
                    update(Delivery)
                    .where(
                        Delivery.id == delivery_id,
                        Delivery.state == PENDING,
                        or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
                    )
                    .values(
                        lease_owner=self.owner,
                        lease_until=now + self.settings.lease_seconds,
                        in_flight=True,
                        attempts=Delivery.attempts + 1,
                    )
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append((delivery_id, bool(interrupted)))
        return claimed

    def attempt(self, delivery_id: int, interrupted: bool = False) -> None:
        try:
            self._attempt(delivery_id, interrupted)
        except Exception:
            log.exception("worker.attempt_crashed", extra={"delivery_id": delivery_id})
            self._record(delivery_id, RetryLater("the router failed while delivering; see its log"))
        finally:
            with self.lock:
                self.busy.discard(delivery_id)
            self.wake.set()  # a slot is free, and a resolve may now follow its trigger

    def _attempt(self, delivery_id: int, interrupted: bool) -> None:
        with self.store.reading() as session:
            delivery = session.get(Delivery, delivery_id)
            event = session.get(AlertEvent, delivery.event_id) if delivery else None
            if delivery is None or event is None or delivery.state != PENDING:
                return
            target, destination, identity = delivery.target, delivery.destination, delivery.identity
            route: dict[str, Any] = json.loads(delivery.route)
            action, key = delivery.action, delivery.idempotency_key
            alert: dict[str, Any] = json.loads(event.alert)
            priority, group_key, external_url = event.priority, event.group_key, event.external_url
            ref_row = session.get(TargetRef, (target, destination, identity))
            ref = dict(json.loads(ref_row.ref)) if ref_row else None
        job = Job(
            action=action,
            alert=json.loads(json.dumps(alert, default=str)),
            priority=priority,
            group_key=group_key,
            external_url=external_url,
            route=route,
            identity=identity,
            delivery_key=key,
            ref=ref,
            interrupted=interrupted,
            links=links_for(self.settings, alert, external_url),
        )
        self._record(delivery_id, self.notifiers[target].deliver(job))

    def _record(self, delivery_id: int, outcome: Outcome) -> None:
        """The outcome, and what the target gave back (Slack ts, Jira key), in one transaction."""
        now = time.time()
        s = self.settings
        with self.store.session() as session:
            delivery = session.get(Delivery, delivery_id)
            if delivery is None:
                return
            if isinstance(outcome, Delivered) and outcome.ref:
                session.merge(
                    TargetRef(
                        target=delivery.target,
                        destination=delivery.destination,
                        identity=delivery.identity,
                        ref=json.dumps(outcome.ref),
                        updated_at=now,
                    )
                )
            delivery.in_flight = False
            delivery.lease_owner = None
            delivery.lease_until = None
            target = delivery.target
            if isinstance(outcome, Delivered):
                delivery.state, delivery.finished_at, delivery.last_error = (
                    DELIVERED,
                    now,
                    outcome.note,
                )
                DELIVERIES.labels(target, "delivered").inc()
                DELIVERY_LATENCY.labels(target).observe(now - delivery.accepted_at)
                log.info("delivery.delivered", extra=self._fields(delivery))
            elif isinstance(outcome, GiveUp):
                delivery.state, delivery.finished_at, delivery.last_error = (
                    GIVEN_UP,
                    now,
                    outcome.why,
                )
                DELIVERIES.labels(target, "given_up").inc()
                log.warning("delivery.given_up", extra=self._fields(delivery))
            else:
                delay = backoff_seconds(
                    delivery.attempts, s.backoff_initial_seconds, s.backoff_max_seconds
                )
                if outcome.after_seconds is not None:
                    delay = max(outcome.after_seconds, 0.0)
                delivery.last_error = outcome.why
                if now + delay - delivery.created_at > s.dead_letter_after_seconds:
                    delivery.state, delivery.finished_at = DEAD, now
                    DELIVERIES.labels(target, "dead").inc()
                    log.error("delivery.dead_lettered", extra=self._fields(delivery))
                else:
                    delivery.next_attempt_at = now + delay
                    DELIVERIES.labels(target, "retry").inc()
                    log.info(
                        "delivery.retry_later",
                        extra={**self._fields(delivery), "delay_seconds": round(delay, 2)},
                    )

    @staticmethod
    def _fields(delivery: Delivery) -> dict[str, Any]:
        return {
            "delivery_id": delivery.id,
            "target": delivery.target,
            "action": delivery.action,
            "attempts": delivery.attempts,
            "reason": delivery.last_error,
        }
