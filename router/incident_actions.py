"""What a person can do to an incident: acknowledge it, silence it, expire a silence made here.

Each action is stored once per idempotency key (a second click, a reload, a twin router: one row,
one silence, one PagerDuty acknowledge), and counted after its commit.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from router.incidents import Incident, incident_id
from router.ingest import pending_delivery
from router.metrics import INCIDENT_ACTIONS
from router.payload import WebhookPayload
from router.settings import RouterSettings
from router.silences import AlertmanagerFailed, create_silence, expire_silence
from router.store import AlertEvent, Delivery, Store
from router.store.tables import IncidentAction

log = logging.getLogger(__name__)
# How long each silence button silences; "until resolved" is capped, and ended on resolve.
SILENCE_HOURS = {"1h": 1.0, "4h": 4.0, "until-resolved": 24.0 * 7}
ACKNOWLEDGE_TARGETS = ("pagerduty",)  # targets whose incidents are acknowledged at the source


class ActionRefused(Exception):
    """The action cannot be done; the message says why, for the person who asked."""


def expire_key(incident: str, silence_id: str) -> str:
    """One expiry per silence, whether a person or a resolve ended it."""
    return f"{incident}|expire|{silence_id}"


def _record(
    store: Store, incident: Incident, action: str, actor: str, key: str, detail: dict[str, Any]
) -> bool:
    """Store the action unless one with the same key is there; True when this one is new."""
    with store.session() as session:
        before = session.scalar(
            select(IncidentAction.id).where(IncidentAction.idempotency_key == key)
        )
        if before is not None:
            return False
        store.insert_ignore_many(
            session,
            IncidentAction,
            [
                {
                    "idempotency_key": key,
                    "incident_id": incident.id,
                    "fingerprint": incident.fingerprint,
                    "action": action,
                    "actor": actor[:255],
                    "at": time.time(),
                    "detail": json.dumps(detail),
                }
            ],
        )
        if action == "acknowledge":
            _plan_acknowledgements(store, session, incident)
    INCIDENT_ACTIONS.labels(action).inc()
    log.info(
        "%s %s incident %s",
        actor,
        action,
        incident.id,
        extra={"event": f"incident.{action}", "incident.id": incident.id, "user.name": actor},
    )
    return True


def _plan_acknowledgements(store: Store, session: Session, incident: Incident) -> None:
    """An `acknowledge` delivery beside each PagerDuty trigger of the incident: the worker sends
    it (after the trigger, with retries) like any other delivery."""
    triggers = session.scalars(
        select(Delivery)
        .join(AlertEvent, AlertEvent.id == Delivery.event_id)
        .where(
            AlertEvent.fingerprint == incident.fingerprint,
            AlertEvent.starts_at == incident.starts_at,
            Delivery.target.in_(ACKNOWLEDGE_TARGETS),
            Delivery.action == "trigger",
        )
    ).all()
    now = time.time()
    rows = [
        pending_delivery(
            f"{t.idempotency_key}|acknowledge",
            t.target,
            t.destination,
            t.identity,
            "acknowledge",
            t.priority,  # type: ignore[arg-type]
            json.loads(t.route),
            now,
        )
        | {"event_id": t.event_id}
        for t in triggers
    ]
    if rows:
        store.insert_ignore_many(session, Delivery, rows)


def acknowledge(store: Store, incident: Incident, actor: str) -> bool:
    if incident.resolved_at is not None:
        raise ActionRefused("This incident is resolved; there is nothing to acknowledge.")
    return _record(store, incident, "acknowledge", actor, f"{incident.id}|acknowledge", {})


def silence(
    settings: RouterSettings, store: Store, incident: Incident, duration: str, actor: str
) -> bool:
    """One Alertmanager silence per incident and duration while it lasts."""
    if duration not in SILENCE_HOURS:
        raise ActionRefused(f"Silence for {', '.join(SILENCE_HOURS)}; not {duration[:40]!r}.")
    if incident.resolved_at is not None:
        raise ActionRefused("This incident is resolved; Alertmanager has nothing to silence.")
    if any(a.detail.get("duration") == duration for a in incident.active_silences()):
        return False
    expired = sum(1 for a in incident.actions if a.action == "expire")
    page = f"{settings.own_url()}/incidents/{incident.id}"
    try:
        silence_id, ends_at = create_silence(
            settings,
            incident.labels,
            SILENCE_HOURS[duration],
            actor,
            f"Silenced ({duration}) from the incident page {page}",
        )
    except AlertmanagerFailed as error:
        raise ActionRefused(str(error)) from error
    detail = {"silence_id": silence_id, "duration": duration, "ends_at": ends_at}
    key = f"{incident.id}|silence|{duration}|{expired}"
    if not _record(store, incident, "silence", actor, key, detail):
        expire_silence(settings, silence_id)  # a twin click won the race: keep one silence
        return False
    return True


def expire(
    settings: RouterSettings, store: Store, incident: Incident, silence_id: str, actor: str
) -> bool:
    """Expire a silence made from this page (never one the page did not make)."""
    if silence_id not in {a.detail.get("silence_id") for a in incident.active_silences()}:
        return False
    try:
        expire_silence(settings, silence_id)
    except AlertmanagerFailed as error:
        raise ActionRefused(str(error)) from error
    detail = {"silence_id": silence_id}
    return _record(store, incident, "expire", actor, expire_key(incident.id, silence_id), detail)


def end_silences_until_resolved(
    settings: RouterSettings, store: Store, payload: WebhookPayload
) -> None:
    """After a webhook with resolved alerts: their "until resolved" silences end now (if this
    fails, Alertmanager ends them at their cap)."""
    for alert in payload.alerts:
        if alert.status != "resolved":
            continue
        wanted = incident_id(alert.identity(), alert.startsAt)
        with store.reading() as session:
            rows = session.scalars(
                select(IncidentAction).where(IncidentAction.incident_id == wanted)
            ).all()
        expired = {json.loads(r.detail).get("silence_id") for r in rows if r.action == "expire"}
        for row in rows:
            detail = json.loads(row.detail)
            if detail.get("duration") != "until-resolved" or detail["silence_id"] in expired:
                continue
            try:
                expire_silence(settings, detail["silence_id"])
            except AlertmanagerFailed as error:
                log.warning(
                    "An until-resolved silence was not ended on resolve; it ends at its cap",
                    extra={"event": "incident.silence_not_ended", "error.message": str(error)},
                )
                continue
            with store.session() as session:
                store.insert_ignore_many(
                    session,
                    IncidentAction,
                    [
                        {
                            "idempotency_key": expire_key(wanted, detail["silence_id"]),
                            "incident_id": wanted,
                            "fingerprint": alert.identity(),
                            "action": "expire",
                            "actor": "router (resolved)",
                            "at": time.time(),
                            "detail": json.dumps({"silence_id": detail["silence_id"]}),
                        }
                    ],
                )
