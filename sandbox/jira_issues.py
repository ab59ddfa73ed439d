"""The sandbox Jira's issues and workflow, and what every Jira route shares: Basic-auth guard,
Jira-shaped errors, an issue as Jira's JSON.

Workflow: Open → (Done) → Done → (Reopen) → Open; Done is in the `done` status category.
"""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from starlette.responses import JSONResponse, Response

from sandbox.state import injected_fault

lock = threading.RLock()


issues: dict[str, dict[str, Any]] = {}


settings = {"deploymentType": "Server"}


PRIORITIES = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}


STATUSES: dict[str, dict[str, Any]] = {
    "Open": {"id": "1", "name": "Open", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}},
    "Done": {
        "id": "10001",
        "name": "Done",
        "statusCategory": {"id": 3, "key": "done", "name": "Done"},
    },
}


TRANSITIONS = {"Open": [("31", "Done")], "Done": [("41", "Reopen")]}


TEXT_FIELD_LIMIT = 32_767  # Jira's limit for a text field: description, comment


TOO_LONG = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."


TARGET_STATUS = {"31": "Done", "41": "Open"}


def now_jira() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def errors(status: int, *messages: str, **fields: str) -> JSONResponse:
    return JSONResponse({"errorMessages": list(messages), "errors": fields}, status_code=status)


def reset() -> None:
    with lock:
        issues.clear()
        settings["deploymentType"] = "Server"


async def guard(request: Request) -> Response | None:
    fault = await injected_fault("jira")
    if fault is not None:
        return fault
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return errors(
            401, "You are not authenticated. Authentication required to perform this operation."
        )
    try:
        user, _, _password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return errors(401, "Malformed basic authentication.")
    if not user:
        return errors(401, "You are not authenticated.")
    return None


def issue_json(request: Request, issue: dict[str, Any]) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {
        "id": issue["id"],
        "key": issue["key"],
        "self": f"{base}/jira/rest/api/2/issue/{issue['id']}",
        "fields": {
            **issue["fields"],
            "status": STATUSES[issue["status"]],
            "resolutiondate": issue["resolutiondate"],
            "comment": {"comments": issue["comments"], "total": len(issue["comments"])},
            "attachment": issue["attachments"],
        },
    }


def lookup(key: str) -> dict[str, Any] | None:
    with lock:
        return issues.get(key) or next((i for i in issues.values() if i["id"] == key), None)


def snapshot() -> list[dict[str, Any]]:
    with lock:
        return [
            {
                "key": i["key"],
                "status": i["status"],
                "summary": i["fields"]["summary"],
                "priority": i["fields"]["priority"]["name"],
                "labels": i["fields"]["labels"],
                "description": i["fields"]["description"],
                "comments": [c["body"] for c in i["comments"]],
                "attachments": [
                    {"id": a["id"], "filename": a["filename"], "png": a["png"]}
                    for a in i["attachments"]
                ],
                "transitions": list(i["transitions"]),
            }
            for i in issues.values()
        ]
