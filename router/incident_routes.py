"""The incident pages: `/incidents` (list, dead letters), `/incidents/<id>` (timeline, graph,
evidence, runbook), the confirmation pages every message links to, and the actions they post.

The modules that call out (Elasticsearch, Prometheus, Alertmanager: httpx, matplotlib) are
imported when a page is first asked for, so the webhook process starts without them.

A GET never acts (Slack's and mail scanners' link previews open every link); an action is a POST
from a logged-in console session (`router.console_auth`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from router.console_auth import NotAllowed, csrf_token, current_user, require_action_allowed
from router.incident_timeline import timeline
from router.incidents import STATUSES, Incident, list_incidents, load_incident
from router.links import LOG_WINDOW_BEFORE_SECONDS, links_for, own_logs_link
from router.pages import message_page, render, runbook_markup
from router.routes import PartsDep

incident_pages = APIRouter(include_in_schema=False)
FORM_LIMIT = 16 * 1024
EVIDENCE_BEFORE_SECONDS = 5 * 60
SILENCE_CHOICES = (
    ("1h", "Silence 1 hour"),
    ("4h", "Silence 4 hours"),
    ("until-resolved", "Silence until resolved"),
)
OUTSIDE_TOOLS = ("grafana", "kibana", "alertmanager", "dashboard", "source")


async def form_of(request: Request) -> dict[str, str]:
    """A url-encoded form, small: each field's first value."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            break
    fields = parse_qs(body[:FORM_LIMIT].decode("utf-8", "replace"))
    return {name: values[0] for name, values in fields.items()}


def found(parts: PartsDep, incident_id: str) -> Incident | Response:
    incident = load_incident(parts.store, incident_id[:200])
    if incident is None:
        return message_page(
            "No such incident",
            "The router has no incident with this id; the incidents it knows are listed.",
            404,
        )
    return incident


def window_of(incident: Incident) -> tuple[float, float]:
    start = datetime.fromisoformat(incident.starts_at).timestamp()
    return start, incident.resolved_at or time.time()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@incident_pages.get("/incidents")
def incidents(
    request: Request,
    parts: PartsDep,
    status: Annotated[str, Query(max_length=20)] = "",
    alertname: Annotated[str, Query(max_length=255)] = "",
) -> Response:
    if status and status not in STATUSES:
        return message_page(
            "Unknown status", f"Filter by status {', '.join(STATUSES)}, or none for all.", 400
        )
    return render(
        "incidents.html",
        incidents=list_incidents(parts.store, status or None, alertname or None),
        statuses=STATUSES,
        status=status,
        alertname=alertname,
        dead=parts.store.dead_letters(),
        user=current_user(request, parts.settings),
        csrf=csrf_token(request, parts.settings),
        notice=request.query_params.get("notice", "")[:200],
    )


@incident_pages.get("/incidents/{incident_id}")
def incident_page(incident_id: str, request: Request, parts: PartsDep) -> Response:
    incident = found(parts, incident_id)
    if not isinstance(incident, Incident):
        return incident
    from router.evidence import EvidenceUnavailable, Window, chosen_trace, evidence_lines, span_tree
    from router.graph import expression_of
    from router.graph_expression import compared_series

    settings = parts.settings
    start, end = window_of(incident)
    window = Window(
        incident.labels.get("service") or incident.labels.get("job") or incident.alertname,
        _iso(start - EVIDENCE_BEFORE_SECONDS),
        _iso(end),
    )
    lines, spans, trace, problem = [], [], None, ""
    try:
        lines = evidence_lines(settings, window)
        trace = chosen_trace(settings, window, lines)
        spans = span_tree(settings, trace.trace_id) if trace else []
    except EvidenceUnavailable as error:
        problem = str(error)
    links = links_for(settings, incident.alert)
    expression = expression_of(incident.alert.get("generatorURL", "")) or ""
    return render(
        "incident.html",
        incident=incident,
        entries=timeline(settings, incident),
        expression=expression,
        has_graph=bool(expression),
        compared=compared_series(expression),
        window=window,
        lines=lines,
        spans=spans,
        longest=max([s.duration_ms for s in spans] + [0.001]),
        trace=trace,
        evidence_problem=problem,
        logs_link=own_logs_link(settings, incident.alert),
        runbook=runbook_markup(settings.runbooks_dir, incident.alertname),
        outside_links=[(name, links[name]) for name in OUTSIDE_TOOLS if name in links],
        user=current_user(request, settings),
        csrf=csrf_token(request, settings),
        notice=request.query_params.get("notice", "")[:200],
    )


@incident_pages.get("/incidents/{incident_id}/graph.png")
def incident_graph(incident_id: str, parts: PartsDep) -> Response:
    incident = found(parts, incident_id)
    if not isinstance(incident, Incident):
        return incident
    from router.graph import render_window

    start, end = window_of(incident)
    marks = [(start, "fired")]
    if incident.resolved_at:
        marks.append((incident.resolved_at, "resolved"))
    png = render_window(
        parts.settings,
        incident.alert,
        start - LOG_WINDOW_BEFORE_SECONDS,
        max(end, start + 60),
        tuple(marks),
    )
    if png is None:
        return Response(status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page asks; its buttons post `choice` to the same path."""

    verb: str
    explanation: str
    choices: tuple[tuple[str, str], ...]


CONFIRMATIONS = {
    "acknowledge": Confirmation(
        "Acknowledge",
        "You take it: the PagerDuty incident is acknowledged, and the router sends nothing more "
        "for this alert until it resolves (a re-fire is recorded, not notified).",
        (("acknowledge", "Acknowledge"),),
    ),
    "silence": Confirmation(
        "Silence",
        "Alertmanager stops notifying for alerts with exactly these labels. "
        "“Until resolved” ends when the alert resolves (at the latest in 7 days).",
        SILENCE_CHOICES,
    ),
}


@incident_pages.get("/incidents/{incident_id}/{action}")
def confirmation_page(incident_id: str, action: str, request: Request, parts: PartsDep) -> Response:
    """What Slack's Acknowledge and Silence buttons open: a question, never the action."""
    confirmation = CONFIRMATIONS.get(action)
    if confirmation is None:
        return message_page("No such page", "An incident has /acknowledge and /silence.", 404)
    incident = found(parts, incident_id)
    if not isinstance(incident, Incident):
        return incident
    here = f"/incidents/{incident.id}/{action}"
    return render(
        "confirm.html",
        incident=incident,
        question=f"{confirmation.verb} {incident.alertname}?",
        explanation=confirmation.explanation,
        action=here,
        here=here,
        choices=confirmation.choices,
        fields=[],
        user=current_user(request, parts.settings),
        csrf=csrf_token(request, parts.settings),
    )


async def act(request: Request, parts: PartsDep, incident_id: str, action: str) -> Response:
    from router.incident_actions import ActionRefused, acknowledge, expire, silence

    form = await form_of(request)
    try:
        user = require_action_allowed(request, parts.settings, form.get("csrf", ""))
    except NotAllowed as refused:
        return message_page("Not allowed", str(refused), 403, f"/incidents/{incident_id[:200]}")
    incident = found(parts, incident_id)
    if not isinstance(incident, Incident):
        return incident

    def perform() -> bool:  # Alertmanager and the store are called synchronously
        if action == "acknowledge":
            return acknowledge(parts.store, incident, user)
        if action == "silence":
            return silence(parts.settings, parts.store, incident, form.get("choice", ""), user)
        return expire(parts.settings, parts.store, incident, form.get("silence_id", ""), user)

    try:
        done = await run_in_threadpool(perform)
    except ActionRefused as refused:
        return message_page("Not done", str(refused), 409, f"/incidents/{incident.id}")
    if done:
        parts.worker.nudge()
    notice = {"acknowledge": "Acknowledged.", "silence": "Silenced.", "expire": "Expired."}
    said = notice[action] if done else "Already done; nothing changed."
    return RedirectResponse(
        f"/incidents/{incident.id}?{urlencode({'notice': said})}", status_code=303
    )


@incident_pages.post("/incidents/{incident_id}/acknowledge")
async def acknowledge_action(incident_id: str, request: Request, parts: PartsDep) -> Response:
    return await act(request, parts, incident_id, "acknowledge")


@incident_pages.post("/incidents/{incident_id}/silence")
async def silence_action(incident_id: str, request: Request, parts: PartsDep) -> Response:
    return await act(request, parts, incident_id, "silence")


@incident_pages.post("/incidents/{incident_id}/expire")
async def expire_action(incident_id: str, request: Request, parts: PartsDep) -> Response:
    return await act(request, parts, incident_id, "expire")


@incident_pages.post("/incidents/dead-letters/replay")
async def replay_dead_letters(request: Request, parts: PartsDep) -> Response:
    form = await form_of(request)
    try:
        require_action_allowed(request, parts.settings, form.get("csrf", ""))
    except NotAllowed as refused:
        return message_page("Not allowed", str(refused), 403)
    wanted = form.get("id", "")
    if wanted and not wanted.isdigit():
        return message_page("Bad request", "The dead letter id is a number.", 400)
    ids = [int(wanted)] if wanted else None
    count = await run_in_threadpool(parts.store.replay_dead, None, ids)
    parts.worker.nudge()
    said = urlencode({"notice": f"Replayed {count} dead letters."})
    return RedirectResponse(f"/incidents?{said}", status_code=303)
