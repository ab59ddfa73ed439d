"""Turning one accepted webhook into stored alert events and planned deliveries, in one transaction.

Idempotency lives here: an event already stored (Alertmanager retry, repeat interval, HA twin)
plans nothing new, so it can never cause a second page, post or ticket.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from router.payload import WebhookAlert, WebhookPayload
from router.routing import RoutingTable
from router.store import PENDING, AlertEvent, Delivery, Store, Webhook


@dataclass(frozen=True)
class IngestResult:
    webhook_id: int
    new_events: int
    duplicate_events: int
    deliveries: int


def destination_of(target: str, route: dict[str, object]) -> str:
    """The part of a route that names where a message goes (one Slack thread per channel...)."""
    key = {"pagerduty": "service", "slack": "channel", "jira": "project", "email": "to"}[target]
    value = route[key]
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def identity_for(target: str, route: dict[str, object], alert: WebhookAlert, group: str) -> str:
    """Which deliveries belong together: per alert, or per Alertmanager group for PagerDuty."""
    if target == "pagerduty" and route.get("dedup") == "group":
        return "group-" + hashlib.sha256(group.encode()).hexdigest()[:24]
    return alert.identity()


def ingest(store: Store, table: RoutingTable, payload: WebhookPayload, raw: bytes) -> IngestResult:
    now = time.time()
    new = duplicates = planned = 0
    with store.session() as session:
        webhook = Webhook(
            received_at=now,
            group_key=payload.groupKey,
            receiver=payload.receiver,
            status=payload.status,
            alerts=len(payload.alerts),
            truncated_alerts=payload.truncatedAlerts,
            body=raw.decode("utf-8", "replace"),
        )
        session.add(webhook)
        session.flush()
        for alert in payload.alerts:
            priority = table.priority_of(alert.labels)
            starts_at = alert.startsAt.isoformat()
            fingerprint = alert.identity()
            is_new = store.insert_ignore(
                session,
                AlertEvent,
                {
                    "fingerprint": fingerprint,
                    "starts_at": starts_at,
                    "status": alert.status,
                    "alertname": alert.alertname[:255],
                    "priority": priority,
                    "group_key": payload.groupKey,
                    "external_url": payload.externalURL,
                    "alert": alert.model_dump_json(),
                    "received_at": now,
                    "webhook_id": webhook.id,
                },
            )
            if not is_new:
                duplicates += 1
                continue
            new += 1
            event_id = (
                session.query(AlertEvent.id)
                .filter_by(fingerprint=fingerprint, starts_at=starts_at, status=alert.status)
                .scalar()
            )
            action = "trigger" if alert.status == "firing" else "resolve"
            for target, route_model in table.route(priority).targets().items():
                route = route_model.model_dump()
                destination = destination_of(target, route)
                identity = identity_for(target, route, alert, payload.groupKey)
                key = f"{target}|{destination}|{identity}|{fingerprint}|{action}|{starts_at}"
                planned += store.insert_ignore(
                    session,
                    Delivery,
                    {
                        "idempotency_key": hashlib.sha256(key.encode()).hexdigest(),
                        "target": target,
                        "destination": destination[:255],
                        "identity": identity,
                        "action": action,
                        "route": json.dumps(route),
                        "event_id": event_id,
                        "state": PENDING,
                        "attempts": 0,
                        "created_at": now,
                        "accepted_at": now,
                        "next_attempt_at": now,
                        "last_error": "",
                        "in_flight": False,
                    },
                )
    return IngestResult(webhook.id, new, duplicates, planned)
