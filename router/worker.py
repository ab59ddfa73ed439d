"""The delivery worker: claims due deliveries, sends them, records outcomes, retries with backoff.

Claims are leases in the store, so two routers on one database never send the same delivery at
the same time, and a crashed router's work is taken up again. Per (target, destination, alert)
deliveries go in order: a resolve waits for its trigger (it needs the Slack ts / Jira key).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from router.decision import Counted, Decision, DeliveryFacts, RetryPolicy, decide
from router.links import links_for
from router.metrics import DELIVERIES, DELIVERY_LATENCY
from router.notifiers.base import Notifier
from router.outcome import Job, Outcome, RetryLater
from router.settings import RouterSettings
from router.store import PENDING, Delivery, Store
from router.store.statements import DUE, FACTS, JOB, LEASE, NOTIFICATION_ALERTS, SETTLE, bound
from router.targets import PER_NOTIFICATION_TARGETS

log = logging.getLogger(__name__)
# The log line of each delivery outcome (its event name goes to `event.action`).
DELIVERY_SENTENCES = {
    "delivery.delivered": "Delivered",
    "delivery.given_up": "Gave up on",
    "delivery.dead_lettered": "Dead-lettered",
    "delivery.retry_later": "Will retry",
}


def record(counted: Iterable[Counted]) -> None:
    """The metrics of outcomes already committed (a failed commit counts nothing)."""
    for count in counted:
        DELIVERIES.labels(count.target, count.result).inc()
        if count.latency_seconds is not None:
            DELIVERY_LATENCY.labels(count.target).observe(count.latency_seconds)


class Worker:
    def __init__(
        self, settings: RouterSettings, store: Store, notifiers: dict[str, Notifier]
    ) -> None:
        self.settings = settings
        self.policy = RetryPolicy(
            settings.backoff_initial_seconds,
            settings.backoff_max_seconds,
            settings.dead_letter_after_seconds,
        )
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
        self.thread.start()

    def release_previous_leases(self) -> None:
        """Free what a previous worker of this instance had claimed. A store locked by another
        writer (a backup, the sqlite3 shell) is waited out, as the loop's failures are: an
        exception here used to end the delivery process while the webhook kept answering 200."""
        while not self.stopping.is_set():
            try:
                released = self.store.release_leases(self.owner)
            except Exception:
                log.exception(
                    "The delivery store failed; the previous leases are released next turn",
                    extra={"event": "worker.store_failed"},
                )
                self.stopping.wait(self.settings.poll_interval_seconds)
                continue
            if released:
                log.info(
                    "Released %d deliveries a previous worker had claimed",
                    released,
                    extra={"event": "worker.leases_released", "count": released},
                )
            return

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
        self.release_previous_leases()
        while not self.stopping.is_set():
            finished = self._take_finished()
            try:
                claimed = self.settle_and_claim(finished)
            except Exception:
                log.exception(
                    "The delivery store failed; outcomes are recorded next turn",
                    extra={"event": "worker.store_failed"},
                )
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
        recorded, and as many due deliveries as there are free threads are claimed. What to
        write is decided before the transaction, so the writer lock is held only to write; what
        happened is counted and logged only once it is committed."""
        now = time.time()
        decision = decide(self._facts_of(finished), self.policy, now)
        with self.store.session() as session:
            if decision.settled:
                session.connection().execute(SETTLE, [bound(asdict(s)) for s in decision.settled])
            if decision.refs:
                self.store.save_refs(session, [asdict(ref) for ref in decision.refs])
            with self.lock:
                self.busy.difference_update(delivery_id for delivery_id, _ in finished)
                free = self.settings.worker_threads - len(self.busy)
            claimed = self._claim(session, now, free) if claim and free > 0 else []
        self._tell(decision)
        with self.lock:
            self.busy.update(delivery_id for delivery_id, _ in claimed)
        return claimed

    def _claim(self, session: Session, now: float, free: int) -> list[tuple[int, bool]]:
        """Lease up to `free` due deliveries (see `statements.DUE`); each comes back with
        whether an earlier attempt was interrupted after its call went out."""
        candidates = session.execute(DUE, {"b_now": now, "b_free": free}).all()
        lease = {"b_now": now, "b_owner": self.owner, "b_until": now + self.settings.lease_seconds}
        claimed = []
        for delivery_id, interrupted in candidates:
            result = session.connection().execute(LEASE, {**lease, "b_id": delivery_id})
            if result.rowcount == 1:
                claimed.append((delivery_id, bool(interrupted)))
        return claimed

    def attempt(self, delivery_id: int, interrupted: bool = False) -> None:
        outcome: Outcome | None
        try:
            outcome = self._attempt(delivery_id, interrupted)
        except Exception:
            log.exception(
                "Delivery %d crashed; it is retried later",
                delivery_id,
                extra={"event": "worker.attempt_crashed", "delivery_id": delivery_id},
            )
            outcome = RetryLater("the router failed while delivering; see its log")
        with self.lock:
            self.finished.append((delivery_id, outcome))
        self.wake.set()  # record it, use the free thread, and a resolve may follow its trigger

    def _attempt(self, delivery_id: int, interrupted: bool) -> Outcome | None:
        """Send one delivery; its outcome (None: nothing to send any more) is recorded by the
        worker's next turn."""
        with self.store.reading() as session:
            found = session.connection().execute(JOB, {"b_id": delivery_id}).first()
            if found is None or found.state != PENDING:
                return None
            listed = (
                [
                    json.loads(row.alert)
                    for row in session.connection().execute(
                        NOTIFICATION_ALERTS,
                        {"b_webhook_id": found.webhook_id, "b_priority": found.priority},
                    )
                ]
                if found.target in PER_NOTIFICATION_TARGETS
                else []
            )
        route: dict[str, Any] = json.loads(found.route)
        alert: dict[str, Any] = json.loads(found.alert)
        ref = dict(json.loads(found.ref)) if found.ref else None
        job = Job(
            action=found.action,
            alert=alert,
            priority=found.priority,
            group_key=found.group_key,
            external_url=found.external_url,
            route=route,
            identity=found.identity,
            delivery_key=found.idempotency_key,
            ref=ref,
            interrupted=interrupted,
            links=links_for(self.settings, alert, found.external_url),
            truncated_alerts=int(found.truncated_alerts or 0),
            notification_alerts=listed,
        )
        return self.notifiers[found.target].deliver(job)

    def _facts_of(
        self, finished: list[tuple[int, Outcome | None]]
    ) -> list[tuple[DeliveryFacts, Outcome]]:
        """The outcomes with what the store says of their deliveries (read without the writer
        lock: only the worker holding a delivery's lease changes these)."""
        outcomes = {delivery_id: o for delivery_id, o in finished if o is not None}
        if not outcomes:
            return []
        with self.store.reading() as session:
            rows = session.execute(FACTS.where(Delivery.id.in_(list(outcomes))))
            facts = {row.id: DeliveryFacts(**row._mapping) for row in rows}
        return [(facts[i], outcome) for i, outcome in outcomes.items() if i in facts]

    @staticmethod
    def _tell(decision: Decision) -> None:
        """After the commit: only what happened is counted and told."""
        record(decision.counted)
        for note in decision.notes:
            fields = note.fields
            log.log(
                note.level,
                "%s delivery %s (%s %s, attempt %s)",
                DELIVERY_SENTENCES[note.event],
                fields["delivery_id"],
                fields["target"],
                fields["action"],
                fields["attempts"],
                extra={"event": note.event, **fields},
            )
