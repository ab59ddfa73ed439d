"""The sandbox's HTTP app: the fakes, what they received (JSON; the page is `page.py`), fault
switches."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query
from starlette.responses import Response

from sandbox import jira, jira_issues, jira_search, pagerduty, slack, slack_workspace
from sandbox.images import forget_images
from sandbox.page import page_router
from sandbox.state import STATE, TARGETS, Fault, Target

app = FastAPI(title="Soundcheck sandbox: PagerDuty, Slack, Jira and SMTP stand-ins")
app.include_router(pagerduty.router)
app.include_router(slack.router)
app.include_router(jira.router)
app.include_router(jira_search.router)
app.include_router(page_router)


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
    forget_images()
    return Response(status_code=204)
