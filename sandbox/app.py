"""The sandbox's HTTP app: the three fakes, what they received (HTML, JSON), fault switches."""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, Query
from starlette.responses import HTMLResponse, Response

from sandbox import jira, jira_issues, jira_search, pagerduty, slack, slack_workspace
from sandbox.state import STATE, TARGETS, Fault, Target

app = FastAPI(title="Soundcheck sandbox: PagerDuty, Slack, Jira and SMTP stand-ins")
app.include_router(pagerduty.router)
app.include_router(slack.router)
app.include_router(jira.router)
app.include_router(jira_search.router)


@app.get("/_sandbox/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/_sandbox/received")
def received(target: Annotated[Target, Query()]) -> list[dict[str, Any]]:
    """Everything the target received, newest first."""
    return STATE.newest_first(target)


@app.get("/_sandbox/state")
def state() -> dict[str, Any]:
    """What a person would see in each product: incidents, channel messages, tickets."""
    return {
        "pagerduty": pagerduty.snapshot(),
        "slack": slack_workspace.snapshot(),
        "jira": jira_issues.snapshot(),
    }


@app.get("/_sandbox/faults")
def faults() -> dict[str, Any]:
    return {t: f.model_dump() for t in TARGETS if (f := STATE.active_fault(t))}


@app.put("/_sandbox/faults/{target}")
def set_fault(target: Target, fault: Fault) -> dict[str, Any]:
    STATE.set_fault(target, fault)
    return fault.model_dump()


@app.delete("/_sandbox/faults/{target}")
def clear_fault(target: Target) -> Response:
    STATE.clear_fault(target)
    return Response(status_code=204)


@app.put("/_sandbox/jira/deployment")
def jira_deployment(kind: str = Query(..., pattern="^(Server|Cloud)$")) -> dict[str, str]:
    """Make the fake Jira answer as Server (`/search`) or Cloud (`/search/jql`)."""
    jira_issues.settings["deploymentType"] = kind
    return {"deploymentType": kind}


@app.post("/_sandbox/reset")
def reset() -> Response:
    with STATE.lock:
        for target in TARGETS:
            STATE.received[target].clear()
        STATE.faults.clear()
    pagerduty.reset()
    slack_workspace.reset()
    jira_issues.reset()
    return Response(status_code=204)


EMPTY_ROW = "<tr><td colspan=3>nothing yet</td></tr>"


def shown(entry: dict[str, Any]) -> str:
    rest = {k: v for k, v in entry.items() if k not in ("at", "kind", "seq")}
    return json.dumps(rest, indent=1, default=str)[:4000]


@app.get("/_sandbox", response_class=HTMLResponse)
@app.get("/", response_class=HTMLResponse, include_in_schema=False)
def page() -> HTMLResponse:
    sections = []
    for target in TARGETS:
        rows = "".join(
            f"<tr><td>{datetime.fromtimestamp(e['at']).strftime('%H:%M:%S')}</td><td>{html.escape(e['kind'])}</td>"
            f"<td><pre>{html.escape(shown(e))}</pre></td></tr>"
            for e in STATE.newest_first(target)[:200]
        )
        fault = STATE.active_fault(target)
        note = f" — fault on: {html.escape(fault.kind)}" if fault else ""
        sections.append(
            f"<h2 id='{target}'>{target}{note}</h2><table>"
            f"<tr><th>time</th><th>what</th><th>body</th></tr>{rows or EMPTY_ROW}</table>"
        )
    return HTMLResponse(
        "<!doctype html><html><head><meta charset='utf-8'><title>Sandbox: received</title>"
        "<style>body{font-family:sans-serif;margin:1rem}"
        "td,th{border:1px solid #ccc;vertical-align:top;padding:.2rem}"
        "table{border-collapse:collapse;width:100%}pre{margin:0;white-space:pre-wrap;font-size:.8rem}</style></head>"
        "<body><h1>Everything the sandbox received, newest first</h1>"
        "<p><a href='#pagerduty'>PagerDuty</a> · <a href='#slack'>Slack</a> · "
        "<a href='#jira'>Jira</a> · <a href='#email'>e-mail</a> · "
        "<a href='/_sandbox/state'>state (JSON)</a></p>" + "".join(sections) + "</body></html>"
    )
