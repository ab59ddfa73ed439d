"""PagerDuty Events API v2: `POST /v2/enqueue` → 202, 400 for an invalid event (and for one
above PagerDuty's 512 KB event limit), 429 when limited. And the one REST API v2 call the router
makes: `GET /incidents?incident_key=<dedup key>` (with `Authorization: Token token=...`), whose
incidents' `html_url` is their place on the sandbox page.

Incidents are kept by dedup key as PagerDuty does: a trigger on an open key adds to the incident,
a resolve closes it, a trigger after that opens a new one.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from sandbox.state import STATE, injected_fault

router = APIRouter()
SEVERITIES = {"critical", "error", "warning", "info"}
EVENT_BYTES_LIMIT = 512 * 1024  # PagerDuty refuses a bigger event: the page never arrives
incidents: list[dict[str, Any]] = []
incidents_lock = threading.Lock()
incident_numbers = itertools.count(1)  # never reused, not even after a reset: ids are addresses


def invalid(*errors: str) -> JSONResponse:
    return JSONResponse(
        {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)},
        status_code=400,
    )


def problems_of(event: Any) -> list[str]:
    if not isinstance(event, dict):
        return ["Event must be a JSON object."]
    errors = []
    if not isinstance(event.get("routing_key"), str) or len(event["routing_key"]) != 32:
        errors.append("'routing_key' must be a 32 character string.")
    action = event.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        errors.append("'event_action' must be one of trigger, acknowledge, resolve.")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters.")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is required for acknowledge and resolve.")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is required for trigger.")
        else:
            if not payload.get("summary") or len(str(payload["summary"])) > 1024:
                errors.append("'payload.summary' is required, at most 1024 characters.")
            if not payload.get("source"):
                errors.append("'payload.source' is required.")
            if payload.get("severity") not in SEVERITIES:
                errors.append("'payload.severity' must be critical, error, warning or info.")
    return errors


def apply_event(event: dict[str, Any], dedup_key: str) -> None:
    with incidents_lock:
        open_one = next(
            (i for i in incidents if i["dedup_key"] == dedup_key and i["status"] != "resolved"),
            None,
        )
        action = event["event_action"]
        moment = {"at": time.time(), "event": action}
        if action == "trigger":
            if open_one:
                open_one["alerts"] += 1
                open_one["timeline"].append(moment)
            else:
                incidents.append(
                    {
                        "id": f"PSBX{next(incident_numbers):05d}",
                        "created_at": moment["at"],
                        "dedup_key": dedup_key,
                        "status": "triggered",
                        "summary": event["payload"]["summary"],
                        "severity": event["payload"]["severity"],
                        "alerts": 1,
                        "links": event.get("links", []),
                        "details": event["payload"].get("custom_details"),
                        "timeline": [moment],
                    }
                )
        elif open_one:
            open_one["status"] = "resolved" if action == "resolve" else "acknowledged"
            open_one["timeline"].append(moment)


@router.post("/v2/enqueue")
async def enqueue(request: Request) -> Response:
    fault = await injected_fault("pagerduty")
    if fault is not None:
        return fault
    body = await request.body()
    if len(body) > EVENT_BYTES_LIMIT:
        STATE.record("pagerduty", "rejected", {"bytes": len(body)}, errors=["too large"])
        return invalid(f"Event object is larger than the {EVENT_BYTES_LIMIT // 1024} KB limit.")
    try:
        event = json.loads(body)
    except ValueError:
        return invalid("The body is not JSON.")
    errors = problems_of(event)
    if errors:
        STATE.record("pagerduty", "rejected", event, errors=errors)
        return invalid(*errors)
    dedup_key = event.get("dedup_key") or f"sandbox-{STATE.counter + 1}"
    apply_event(event, dedup_key)
    STATE.record("pagerduty", event["event_action"], event, dedup_key=dedup_key)
    return JSONResponse(
        {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, status_code=202
    )


def incident_anchor(incident_id: str) -> str:
    return f"pagerduty-{incident_id}"


@router.get("/incidents")
def list_incidents(request: Request, incident_key: str = "") -> Response:
    """REST API v2's incident list, filtered by `incident_key` as PagerDuty's is."""
    authorization = request.headers.get("authorization", "")
    if not authorization.startswith("Token token=") or len(authorization) <= len("Token token="):
        return JSONResponse({"error": {"message": "Unauthorized", "code": 2006}}, status_code=401)
    page = f"{str(request.base_url).rstrip('/')}/_sandbox"
    with incidents_lock:
        found = [
            {
                "id": i["id"],
                "type": "incident",
                "title": i["summary"],
                "summary": i["summary"],
                "status": i["status"],
                "incident_key": i["dedup_key"],
                "created_at": datetime.fromtimestamp(i["created_at"], UTC).isoformat(),
                "html_url": f"{page}#{incident_anchor(i['id'])}",
            }
            for i in incidents
            if not incident_key or i["dedup_key"] == incident_key
        ]
    return JSONResponse(
        {"incidents": found, "limit": 25, "offset": 0, "more": False, "total": None}
    )


def snapshot() -> list[dict[str, Any]]:
    with incidents_lock:
        return [dict(i, timeline=list(i["timeline"])) for i in incidents]


def reset() -> None:
    with incidents_lock:
        incidents.clear()
