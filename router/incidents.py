"""Incidents as the router's store knows them: one alert episode (fingerprint + startsAt), with
what was sent for it and what people did on its page.

An incident's id is the fingerprint and a short hash of the start, so a link in a message made
before any page was opened already leads to it, and nothing new is stored at ingest.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from router.outcome import AlertText
from router.payload import WebhookAlert
from router.store import AlertEvent, Delivery, Store, TargetRef
from router.store.tables import IncidentAction

INCIDENT_ID = re.compile(r"^(?P<fingerprint>[0-9A-Za-z]{1,64})-(?P<start>[0-9a-f]{10})$")
OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
STATUSES = (OPEN, ACKNOWLEDGED, RESOLVED)


def start_key(starts_at: str) -> str:
    return hashlib.sha256(starts_at.encode()).hexdigest()[:10]


def incident_id(fingerprint: str, starts_at: datetime) -> str:
    """The id every message links to; `starts_at` as ingest stores it (isoformat)."""
    return f"{fingerprint}-{start_key(starts_at.isoformat())}"


def incident_id_of(alert: dict[str, Any]) -> str | None:
    """The id of the incident an alert object (as stored) belongs to."""
    try:
        parsed = WebhookAlert.model_validate(alert)
    except ValueError:
        return None
    return incident_id(parsed.identity(), parsed.startsAt)


@dataclass(frozen=True)
class Action:
    action: str
    actor: str
    at: float
    detail: dict[str, Any]


@dataclass(frozen=True)
class Sent:
    """One notification planned for the incident and what became of it."""

    target: str
    destination: str
    action: str
    state: str
    attempts: int
    finished_at: float | None
    last_error: str
    ref: dict[str, Any] | None


@dataclass
class Incident(AlertText):
    id: str
    fingerprint: str
    starts_at: str
    alert: dict[str, Any]
    priority: str
    fired_at: float
    resolved_at: float | None = None
    resolved_alert: dict[str, Any] | None = None
    sent: list[Sent] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    later_episodes: list[tuple[str, float]] = field(default_factory=list)  # (id, fired at)

    @property
    def acknowledgement(self) -> Action | None:
        return next((a for a in self.actions if a.action == "acknowledge"), None)

    @property
    def status(self) -> str:
        if self.resolved_at is not None:
            return RESOLVED
        return ACKNOWLEDGED if self.acknowledgement else OPEN

    def active_silences(self) -> list[Action]:
        """Silences made here and not expired from here (Alertmanager ends them at endsAt)."""
        expired = {a.detail.get("silence_id") for a in self.actions if a.action == "expire"}
        return [
            a
            for a in self.actions
            if a.action == "silence" and a.detail.get("silence_id") not in expired
        ]


def _actions(store: Store, fingerprint: str) -> dict[str, list[Action]]:
    with store.reading() as session:
        rows = session.scalars(
            select(IncidentAction)
            .where(IncidentAction.fingerprint == fingerprint)
            .order_by(IncidentAction.at)
        ).all()
    by_incident: dict[str, list[Action]] = {}
    for row in rows:
        by_incident.setdefault(row.incident_id, []).append(
            Action(row.action, row.actor, row.at, json.loads(row.detail or "{}"))
        )
    return by_incident


def _episodes(events: list[AlertEvent]) -> dict[str, Incident]:
    """The incidents of one fingerprint's events: one per startsAt, oldest first."""
    incidents: dict[str, Incident] = {}
    for event in sorted(events, key=lambda e: e.received_at):
        key = f"{event.fingerprint}-{start_key(event.starts_at)}"
        alert = json.loads(event.alert)
        incident = incidents.get(key)
        if incident is None:
            incident = incidents[key] = Incident(
                key, event.fingerprint, event.starts_at, alert, event.priority, event.received_at
            )
        if event.status == "resolved":
            incident.resolved_at = event.received_at
            incident.resolved_alert = alert
    return incidents


def load_incident(store: Store, wanted: str) -> Incident | None:
    """The incident with this id, its notifications, actions and the episodes after it."""
    match = INCIDENT_ID.match(wanted)
    if match is None:
        return None
    fingerprint = match["fingerprint"]
    with store.reading() as session:
        events = list(
            session.scalars(select(AlertEvent).where(AlertEvent.fingerprint == fingerprint))
        )
        episodes = _episodes(events)
        incident = episodes.get(wanted)
        if incident is None:
            return None
        ids = [e.id for e in events if f"{fingerprint}-{start_key(e.starts_at)}" == wanted]
        rows = session.execute(
            select(Delivery, TargetRef.ref)
            .outerjoin(
                TargetRef,
                (TargetRef.target == Delivery.target)
                & (TargetRef.destination == Delivery.destination)
                & (TargetRef.identity == Delivery.identity),
            )
            .where(Delivery.event_id.in_(ids))
            .order_by(Delivery.id)
        ).all()
    incident.sent = [
        Sent(
            d.target,
            d.destination,
            d.action,
            d.state,
            d.attempts,
            d.finished_at,
            d.last_error,
            json.loads(ref) if ref else None,
        )
        for d, ref in rows
    ]
    incident.actions = _actions(store, fingerprint).get(wanted, [])
    incident.later_episodes = [
        (other.id, other.fired_at)
        for other in episodes.values()
        if other.fired_at > incident.fired_at
    ]
    return incident


def list_incidents(
    store: Store, status: str | None = None, alertname: str | None = None, limit: int = 200
) -> list[Incident]:
    """The newest incidents first, of one status and alert name when asked."""
    query = select(AlertEvent).order_by(AlertEvent.id.desc()).limit(limit * 2)
    if alertname:
        query = query.where(AlertEvent.alertname == alertname)
    with store.reading() as session:
        events = list(session.scalars(query))
        actions = session.scalars(
            select(IncidentAction).where(
                IncidentAction.fingerprint.in_({e.fingerprint for e in events})
            )
        ).all()
    by_fingerprint: dict[str, list[AlertEvent]] = {}
    for event in events:
        by_fingerprint.setdefault(event.fingerprint, []).append(event)
    incidents = [i for group in by_fingerprint.values() for i in _episodes(group).values()]
    for row in actions:
        for incident in incidents:
            if incident.id == row.incident_id:
                incident.actions.append(
                    Action(row.action, row.actor, row.at, json.loads(row.detail or "{}"))
                )
    chosen = [i for i in incidents if status is None or i.status == status]
    return sorted(chosen, key=lambda i: i.fired_at, reverse=True)[:limit]
