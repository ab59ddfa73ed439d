"""Turning one accepted webhook into stored alert events and planned deliveries, in one transaction.

Idempotency lives here: an event already stored (Alertmanager retry, repeat interval, HA twin)
plans nothing new, so it can never cause a second page, post or ticket.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, CursorResult
from sqlalchemy.orm import Session

from router.payload import Status, WebhookAlert, WebhookPayload
from router.routing import Priority, RoutingTable
from router.store import PENDING, AlertEvent, Delivery, Store
from router.store.statements import (
    ACKNOWLEDGED_AT,
    EVENT_IDS,
    EXISTING,
    LAST_RESOLVED_AT,
    STORE_WEBHOOK,
)
from router.targets import PER_NOTIFICATION_TARGETS, destination_of


@dataclass(frozen=True)
class IngestResult:
    webhook_id: int
    new_events: int
    duplicate_events: int
    deliveries: int
    held_refires: int = 0  # fired again while acknowledged: stored, not notified


def group_incident(target: str, route: dict[str, object]) -> bool:
    """Whether the route asks for one incident per Alertmanager group. Only a target whose route
    shape has `dedup` (PagerDuty's, in router/targets.py) can ask: routes forbid unknown fields."""
    return route.get("dedup") == "group"


def identity_for(target: str, route: dict[str, object], alert: WebhookAlert, group: str) -> str:
    """Which deliveries belong together: per alert, or per Alertmanager group for PagerDuty."""
    if group_incident(target, route):
        return "group-" + hashlib.sha256(group.encode()).hexdigest()[:24]
    return alert.identity()


def ingest(store: Store, table: RoutingTable, payload: WebhookPayload, raw: bytes) -> IngestResult:
    with store.session(urgent=True) as session:
        return ingest_into(session, store, table, payload, raw)


def ingest_into(
    session: Session, store: Store, table: RoutingTable, payload: WebhookPayload, raw: bytes
) -> IngestResult:
    """A handful of statements per webhook, whatever its size: existing events are read in one
    query, new ones and their deliveries inserted in one batch each (unique keys still guard
    against a concurrent router on the same database)."""
    now = time.time()
    connection = session.connection()
    stored: CursorResult[Any] = connection.execute(
        STORE_WEBHOOK,
        {
            "received_at": now,
            "group_key": payload.groupKey,
            "receiver": payload.receiver,
            "status": payload.status,
            "alerts": len(payload.alerts),
            "truncated_alerts": payload.truncatedAlerts,
            "body": raw.decode("utf-8", "replace"),
        },
    )
    (webhook_id,) = stored.inserted_primary_key or (None,)
    if webhook_id is None:
        raise RuntimeError("the store gave no id for the stored webhook")
    keyed = {(a.identity(), a.startsAt.isoformat(), a.status): a for a in payload.alerts}
    fingerprints = sorted({fingerprint for fingerprint, _, _ in keyed})
    existing = {
        tuple(row) for row in connection.execute(EXISTING, {"b_fingerprints": fingerprints})
    }
    fresh = {key: alert for key, alert in keyed.items() if key not in existing}
    if fresh:
        store.insert_ignore_many(
            session,
            AlertEvent,
            [
                {
                    "fingerprint": fingerprint,
                    "starts_at": starts_at,
                    "status": status,
                    "alertname": alert.alertname[:255],
                    "priority": table.priority_of(alert.labels),
                    "group_key": payload.groupKey,
                    "external_url": payload.externalURL,
                    "alert": alert.model_dump_json(),
                    "received_at": now,
                    "webhook_id": webhook_id,
                }
                for (fingerprint, starts_at, status), alert in fresh.items()
            ],
        )
    event_ids = {
        (row.fingerprint, row.starts_at, row.status): row.id
        for row in connection.execute(
            EVENT_IDS,
            {"b_fingerprints": sorted({f for f, _, _ in fresh}), "b_webhook_id": webhook_id},
        )
    }
    held = acknowledged_fingerprints(connection, {f for f, _, s in fresh if s == "firing"})
    held_keys = {key for key in fresh if key[2] == "firing" and key[0] in held}
    deliveries = [
        delivery_row(table, payload, alert, key, event_ids[key], now)
        for key, alert in fresh.items()
        if key in event_ids  # absent: a concurrent router stored it first
        and key not in held_keys
    ]
    rows = [row for batch in deliveries for row in batch]
    notified = {key: alert for key, alert in fresh.items() if key not in held_keys}
    rows += notification_rows(table, payload, notified, event_ids, now)
    if rows:
        store.insert_ignore_many(session, Delivery, rows)
    return IngestResult(
        webhook_id,
        len(event_ids),
        len(payload.alerts) - len(event_ids),
        len(rows),
        len(held_keys & set(event_ids)),
    )


def acknowledged_fingerprints(connection: Connection, fingerprints: set[str]) -> set[str]:
    """The fingerprints acknowledged on an incident page since they last resolved: a re-fire of
    one (a flapping alert) is stored for its page but pages nobody again."""
    if not fingerprints:
        return set()
    wanted = {"b_fingerprints": sorted(fingerprints)}
    acknowledged = {row[0]: row[1] for row in connection.execute(ACKNOWLEDGED_AT, wanted)}
    if not acknowledged:
        return set()
    resolved = {row[0]: row[1] for row in connection.execute(LAST_RESOLVED_AT, wanted)}
    return {f for f, at in acknowledged.items() if at > resolved.get(f, 0.0)}


def delivery_row(
    table: RoutingTable,
    payload: WebhookPayload,
    alert: WebhookAlert,
    key: tuple[str, str, str],
    event_id: int,
    now: float,
) -> list[dict[str, object]]:
    """One delivery per target of the alert's priority, keyed so it can be planned only once."""
    fingerprint, starts_at, status = key
    action = "trigger" if status == "firing" else "resolve"
    rows: list[dict[str, object]] = []
    priority = table.priority_of(alert.labels)
    for target, route_model in table.route(priority).targets().items():
        if target in PER_NOTIFICATION_TARGETS:
            continue  # planned once for the whole notification (notification_rows)
        route = route_model.model_dump()
        if action == "resolve" and group_incident(target, route) and payload.status != "resolved":
            continue  # one incident per group: resolved only when the whole group is
        destination = destination_of(target, route)
        identity = identity_for(target, route, alert, payload.groupKey)
        unique = f"{target}|{destination}|{identity}|{fingerprint}|{action}|{starts_at}"
        rows.append(
            pending_delivery(unique, target, destination, identity, action, priority, route, now)
            | {"event_id": event_id}
        )
    return rows


def pending_delivery(
    unique: str,
    target: str,
    destination: str,
    identity: str,
    action: str,
    priority: Priority,
    route: Mapping[str, object],
    now: float,
) -> dict[str, object]:
    """A delivery row, due now; `unique` names it, so the same one planned twice is one row."""
    return {
        "idempotency_key": hashlib.sha256(unique.encode()).hexdigest(),
        "target": target,
        "destination": destination[:255],
        "identity": identity,
        "action": action,
        "priority": priority,
        "route": json.dumps(route),
        "state": PENDING,
        "attempts": 0,
        "created_at": now,
        "accepted_at": now,
        "next_attempt_at": now,
        "last_error": "",
        "in_flight": False,
    }


def notification_rows(
    table: RoutingTable,
    payload: WebhookPayload,
    fresh: Mapping[tuple[str, str, Status], WebhookAlert],
    event_ids: Mapping[tuple[str, str, str], int],
    now: float,
) -> list[dict[str, object]]:
    """One delivery per priority and destination for targets told once per notification
    (e-mail), on the first alert event this webhook stored: the worker lists the others of the
    same webhook and priority. Keyed by the events it lists, so a retry plans nothing new."""
    by_priority: dict[Priority, list[tuple[str, str, Status]]] = {}
    for key, alert in fresh.items():
        if key in event_ids:
            by_priority.setdefault(table.priority_of(alert.labels), []).append(key)
    identity = "notification-" + hashlib.sha256(payload.groupKey.encode()).hexdigest()[:24]
    rows: list[dict[str, object]] = []
    for priority, keys in by_priority.items():
        members = hashlib.sha256("\n".join(sorted("|".join(k) for k in keys)).encode())
        firing = any(status == "firing" for _, _, status in keys)
        for target, route_model in table.route(priority).targets().items():
            if target not in PER_NOTIFICATION_TARGETS:
                continue
            route = route_model.model_dump()
            destination = destination_of(target, route)
            unique = f"{target}|{destination}|{identity}|{members.hexdigest()}"
            action = "trigger" if firing else "resolve"
            rows.append(
                pending_delivery(
                    unique, target, destination, identity, action, priority, route, now
                )
                | {"event_id": min(event_ids[key] for key in keys)}
            )
    return rows


class GroupCommitter:
    """Webhooks arriving together are stored in one transaction: one fsync for all of them.

    Each caller still gets its answer only after that commit, so "persisted before 2xx" holds;
    if the group fails, each webhook is tried alone and only the failing ones answer 503.
    """

    def __init__(self, store: Store, table: RoutingTable, max_group: int = 64) -> None:
        self.store = store
        self.table = table
        self.max_group = max_group
        self.queue: queue.Queue[tuple[WebhookPayload, bytes, Future[IngestResult]]] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="ingest-commit", daemon=True)
        self.thread.start()

    def submit(self, payload: WebhookPayload, raw: bytes) -> Future[IngestResult]:
        future: Future[IngestResult] = Future()
        self.queue.put((payload, raw, future))
        return future

    def _run(self) -> None:
        while True:
            group = [self.queue.get()]
            while len(group) < self.max_group:
                try:
                    group.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with self.store.session(urgent=True) as session:
                    results = [
                        ingest_into(session, self.store, self.table, payload, raw)
                        for payload, raw, _ in group
                    ]
            except Exception:  # store them one by one, so one bad webhook fails only itself
                for payload, raw, future in group:
                    try:
                        future.set_result(ingest(self.store, self.table, payload, raw))
                    except Exception as error:
                        future.set_exception(error)
                continue
            for (_, _, future), result in zip(group, results, strict=True):
                future.set_result(result)
