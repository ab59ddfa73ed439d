"""The sandbox page (`/_sandbox`, `/`): what a person would see in each product, drawn from what
the stand-ins hold: Slack channels with Block Kit messages, threads, graphs and edits; PagerDuty
incidents with their timeline; Jira tickets with description, comments and transitions; e-mails
as their HTML part in a sandboxed frame. Every item keeps its raw JSON one click away. No script
runs on the page, and everything from an alert is escaped (Jinja2 autoescape, `markup.py`)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from jinja2 import ChainableUndefined, Environment, FileSystemLoader
from starlette.responses import HTMLResponse, Response

from sandbox import jira_issues, pagerduty, slack_workspace
from sandbox.images import image
from sandbox.markup import jira_wiki, safe_href, slack_mrkdwn
from sandbox.state import STATE, TARGETS

SHOWN_PER_LIST = 50
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
page_router = APIRouter(include_in_schema=False)


def clock(epoch: float | str) -> str:
    return datetime.fromtimestamp(float(epoch)).strftime("%Y-%m-%d %H:%M:%S")


def minutes(seconds: float) -> str:
    """`4 min 05 s`, as PagerDuty says how long an incident was open."""
    whole = int(seconds)
    return f"{whole // 60} min {whole % 60:02d} s" if whole >= 60 else f"{whole} s"


def raw(value: Any) -> str:
    return json.dumps(value, indent=1, default=str, ensure_ascii=False)[:20_000]


@cache
def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=ChainableUndefined,  # what the stand-ins hold is any JSON: missing is empty
    )
    env.filters.update(
        clock=clock, raw=raw, minutes=minutes, mrkdwn=slack_mrkdwn, wiki=jira_wiki, href=safe_href
    )
    env.globals.update(
        message_anchor=slack_workspace.message_anchor, incident_anchor=pagerduty.incident_anchor
    )
    return env


def with_images(message: dict[str, Any]) -> dict[str, Any]:
    """The message with each file marked `shown` when its PNG is kept (to draw it inline)."""
    for item in (message, *message.get("replies", [])):
        for file in item.get("files") or []:
            file["shown"] = image(f"slack-{file.get('id')}") is not None
    return message


def slack_channels() -> list[dict[str, Any]]:
    """Channels with messages, each newest first (threads oldest first, as Slack shows them)."""
    return [
        {
            "name": name,
            "id": slack_workspace.channel_id_for(name),
            "messages": [with_images(m) for m in reversed(messages)][:SHOWN_PER_LIST],
        }
        for name, messages in slack_workspace.snapshot().items()
        if messages
    ]


def emails() -> list[dict[str, Any]]:
    return [
        dict(entry["body"], at=entry["at"])
        for entry in STATE.newest_first("email")
        if entry["kind"] == "message"
    ][:SHOWN_PER_LIST]


@page_router.get("/_sandbox", response_class=HTMLResponse)
@page_router.get("/", response_class=HTMLResponse)
def sandbox_page() -> HTMLResponse:
    faults = {t: fault.kind for t in TARGETS if (fault := STATE.active_fault(t))}
    html = (
        templates()
        .get_template("sandbox.html")
        .render(
            slack=slack_channels(),
            incidents=list(reversed(pagerduty.snapshot()))[:SHOWN_PER_LIST],
            issues=list(reversed(jira_issues.snapshot()))[:SHOWN_PER_LIST],
            emails=emails(),
            faults=faults,
            received={t: STATE.newest_first(t)[:SHOWN_PER_LIST] for t in TARGETS},
        )
    )
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@page_router.get("/_sandbox/images/{key}")
def sandbox_image(key: str) -> Response:
    """A graph uploaded to Slack (`slack-<file id>`) or Jira (`jira-<issue>-<attachment id>`)."""
    data = image(key)
    if data is None:
        return Response("No such image (the sandbox keeps the newest 200).", status_code=404)
    return Response(data, media_type="image/png", headers={"X-Content-Type-Options": "nosniff"})
