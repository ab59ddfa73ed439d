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
from sqlalchemy.orm import Session, aliased

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
        self.finished: list[tuple[int, Outcome | None]] = []
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
        finished = self._take_finished()
        if finished:  # what ended while stopping is recorded too
            self.settle_and_claim(finished, claim=False)

    def nudge(self) -> None:
        self.wake.set()

    def alive(self) -> bool:
        return self.thread.is_alive()

    def run(self) -> None:
        while not self.stopping.is_set():
            finished = self._take_finished()
            try:
                claimed = self.settle_and_claim(finished)
            except Exception:
                log.exception("worker.store_failed")
                with self.lock:  # recorded next turn: an outcome is never dropped
                    self.finished.extend(finished)
                self.stopping.wait(self.settings.poll_interval_seconds)
                continue
            for delivery_id, interrupted in claimed:
                self.pool.submit(self.attempt, delivery_id, interrupted)
            if not claimed and not finished:
                self.wake.wait(self.settings.poll_interval_seconds)
                self.wake.clear()

    def _take_finished(self) -> list[tuple[int, Outcome | None]]:
        with self.lock:
            finished, self.finished = self.finished, []
        return finished

    def settle_and_claim(
        self, finished: list[tuple[int, Outcome | None]], claim: bool = True
    ) -> list[tuple[int, bool]]:
        """One transaction per turn, however many threads: the outcomes that came back are
        recorded, and as many due deliveries as there are free threads are claimed."""
        now = time.time()
        with self.store.session() as session:
            for delivery_id, outcome in finished:
                if outcome is not None:
                    self._record(session, delivery_id, outcome, now)
            with self.lock:
                self.busy.difference_update(delivery_id for delivery_id, _ in finished)
                free = self.settings.worker_threads - len(self.busy)
            claimed = self._claim(session, now, free) if claim and free > 0 else []
        with self.lock:
            self.busy.update(delivery_id for delivery_id, _ in claimed)
        return claimed

    def claim(self) -> list[tuple[int, bool]]:
        return self.settle_and_claim([])

    def _claim(self, session: Session, now: float, free: int) -> list[tuple[int, bool]]:
        """Lease up to `free` due deliveries whose predecessors are all finished, the highest
        priority first, then the longest due.

        The same transaction counts the attempt and marks each in flight, so a crash from here
        on is detectable (the next attempt checks the target before sending again); it returns
        each id with whether an earlier attempt was interrupted that way.
        """
        earlier = aliased(Delivery)
        blocked = exists().where(
            earlier.target == Delivery.target,
            earlier.destination == Delivery.destination,
            earlier.identity == Delivery.identity,
            earlier.state == PENDING,
            earlier.id < Delivery.id,
        )
        candidates = session.execute(
            select(Delivery.id, Delivery.in_flight)
            .where(
                Delivery.state == PENDING,
                Delivery.next_attempt_at <= now,
                or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
                ~blocked,
            )
            # P0 first: a page never waits behind a storm of warnings ("P0" < "P1" < ...)
            .order_by(Delivery.priority, Delivery.next_attempt_at, Delivery.id)
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
        outcome: Outcome | None
        try:
            outcome = self._attempt(delivery_id, interrupted)
        except Exception:
            log.exception("worker.attempt_crashed", extra={"delivery_id": delivery_id})
            outcome = RetryLater("the router failed while delivering; see its log")
        with self.lock:
            self.finished.append((delivery_id, outcome))
        self.wake.set()  # record it, use the free thread, and a resolve may follow its trigger

    def _attempt(self, delivery_id: int, interrupted: bool) -> Outcome | None:
        """Send one delivery; its outcome (None: nothing to send any more) is recorded by the
        worker's next turn."""
        with self.store.reading() as session:
            delivery = session.get(Delivery, delivery_id)
            event = session.get(AlertEvent, delivery.event_id) if delivery else None
            if delivery is None or event is None or delivery.state != PENDING:
                return None
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
        return self.notifiers[target].deliver(job)

    def _record(self, session: Session, delivery_id: int, outcome: Outcome, now: float) -> None:
        """The outcome, and what the target gave back (Slack ts, Jira key)."""
        s = self.settings
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
            delivery.state, delivery.finished_at = DELIVERED, now
            delivery.last_error = outcome.note
            DELIVERIES.labels(target, "delivered").inc()
            DELIVERY_LATENCY.labels(target).observe(now - delivery.accepted_at)
            log.info("delivery.delivered", extra=self._fields(delivery))
        elif isinstance(outcome, GiveUp):
            delivery.state, delivery.finished_at = GIVEN_UP, now
            delivery.last_error = outcome.why
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
