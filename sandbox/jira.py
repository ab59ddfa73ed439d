"""Jira REST v2 at `/jira/rest/api/2/...`: serverInfo, field, issue create/get, search (Server) and
search/jql (Cloud), comment, transitions, attachments. Basic auth required, as on a real server;
Jira's limits too: a summary of at most 255 characters on one line, text fields (description,
comment) of at most 32,767.

Workflow: Open → (Done) → Done → (Reopen) → Open; Done is in the `done` status category.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from sandbox.jql import JqlError, parse
from sandbox.state import STATE, injected_fault

router = APIRouter(prefix="/jira/rest/api/2")
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


@router.get("/serverInfo")
async def server_info(request: Request) -> Response:
    fault = await injected_fault("jira")
    if fault is not None:
        return fault
    return JSONResponse(
        {
            "baseUrl": str(request.base_url).rstrip("/") + "/jira",
            "version": "9.12.0",
            "versionNumbers": [9, 12, 0],
            "deploymentType": settings["deploymentType"],
            "buildNumber": 912000,
            "serverTitle": "Soundcheck sandbox Jira",
        }
    )


@router.get("/field")
async def fields(request: Request) -> Response:
    return await guard(request) or JSONResponse(
        [
            {"id": name, "name": name.title(), "custom": False, "clauseNames": [name]}
            for name in (
                "summary",
                "labels",
                "status",
                "priority",
                "project",
                "issuetype",
                "resolutiondate",
                "created",
                "updated",
            )
        ]
    )


@router.post("/issue")
async def create_issue(request: Request) -> Response:
    refused = await guard(request)
    if refused:
        return refused
    try:
        body = json.loads(await request.body())
        given = body["fields"]
        project = given["project"]["key"]
        issue_type = given["issuetype"].get("name") or given["issuetype"].get("id")
    except (ValueError, KeyError, TypeError, AttributeError):
        return errors(
            400, "The body must be {fields: {project: {key}, issuetype: {name}, summary, ...}}."
        )
    problems: dict[str, str] = {}
    summary = given.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        problems["summary"] = "You must specify a summary of the issue."
    elif len(summary) > 255 or "\n" in summary:
        problems["summary"] = "Summary must be less than 255 characters and on one line."
    description = given.get("description", "")
    if isinstance(description, str) and len(description) > TEXT_FIELD_LIMIT:
        problems["description"] = TOO_LONG
    labels = given.get("labels", [])
    if not isinstance(labels, list) or any(
        not isinstance(x, str) or not x or " " in x or len(x) > 255 for x in labels
    ):
        problems["labels"] = "Labels cannot contain spaces and are at most 255 characters."
    priority = (given.get("priority") or {}).get("name", "Medium")
    if priority not in PRIORITIES:
        problems["priority"] = f"Priority name '{priority}' is not valid."
    if problems:
        STATE.record("jira", "rejected", body, errors=problems)
        return errors(400, **problems)
    with lock:
        number = sum(1 for i in issues.values() if i["fields"]["project"]["key"] == project) + 1
        key = f"{project}-{number}"
        issue = {
            "id": str(10000 + len(issues) + 1),
            "key": key,
            "created_seq": len(issues),
            "status": "Open",
            "resolutiondate": None,
            "comments": [],
            "attachments": [],
            "transitions": [],
            "fields": {
                "project": {"key": project},
                "issuetype": {"name": issue_type},
                "priority": {"name": priority, "id": PRIORITIES[priority]},
                "summary": summary,
                "description": given.get("description", ""),
                "labels": labels,
                "created": now_jira(),
                "updated": now_jira(),
            },
        }
        issues[key] = issue
    STATE.record("jira", "issue.create", body, key=key)
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {"id": issue["id"], "key": key, "self": f"{base}/jira/rest/api/2/issue/{issue['id']}"},
        status_code=201,
    )


def lookup(key: str) -> dict[str, Any] | None:
    with lock:
        return issues.get(key) or next((i for i in issues.values() if i["id"] == key), None)


@router.get("/issue/{key}")
async def get_issue(key: str, request: Request) -> Response:
    refused = await guard(request)
    if refused:
        return refused
    issue = lookup(key)
    if issue is None:
        return errors(404, "Issue Does Not Exist")
    return JSONResponse(issue_json(request, issue))


@router.post("/issue/{key}/comment")
async def add_comment(key: str, request: Request) -> Response:
    refused = await guard(request)
    if refused:
        return refused
    issue = lookup(key)
    if issue is None:
        return errors(404, "Issue Does Not Exist")
    try:
        body = json.loads(await request.body())["body"]
    except (ValueError, KeyError, TypeError):
        return errors(400, "A comment needs a body.")
    if len(str(body)) > TEXT_FIELD_LIMIT:
        STATE.record("jira", "rejected", {"comment_chars": len(str(body))}, key=issue["key"])
        return errors(400, comment=TOO_LONG)
    with lock:
        comment = {"id": str(len(issue["comments"]) + 1), "body": body, "created": now_jira()}
        issue["comments"].append(comment)
    STATE.record("jira", "comment", {"body": body}, key=issue["key"])
    return JSONResponse(
        {
            **comment,
            "self": f"{request.base_url}jira/rest/api/2/issue/{issue['id']}"
            f"/comment/{comment['id']}",
        },
        status_code=201,
    )


@router.get("/issue/{key}/transitions")
async def list_transitions(key: str, request: Request) -> Response:
    refused = await guard(request)
    if refused:
        return refused
    issue = lookup(key)
    if issue is None:
        return errors(404, "Issue Does Not Exist")
    return JSONResponse(
        {
            "transitions": [
                {"id": tid, "name": name, "to": STATUSES[TARGET_STATUS[tid]]}
                for tid, name in TRANSITIONS[issue["status"]]
            ]
        }
    )


@router.post("/issue/{key}/transitions")
async def do_transition(key: str, request: Request) -> Response:
    refused = await guard(request)
    if refused:
        return refused
    issue = lookup(key)
    if issue is None:
        return errors(404, "Issue Does Not Exist")
    try:
        tid = str(json.loads(await request.body())["transition"]["id"])
    except (ValueError, KeyError, TypeError):
        return errors(400, "A transition needs {transition: {id}}.")
    with lock:
        if tid not in {t for t, _ in TRANSITIONS[issue["status"]]}:
            return errors(
                400, f"It is not possible to make transition {tid} from {issue['status']}."
            )
        issue["status"] = TARGET_STATUS[tid]
        issue["resolutiondate"] = now_jira() if issue["status"] == "Done" else None
        issue["transitions"].append(issue["status"])
    STATE.record(
        "jira", "transition", {"transition": tid}, key=issue["key"], status=issue["status"]
    )
    return Response(status_code=204)


@router.post("/issue/{key}/attachments")
async def add_attachment(key: str, request: Request) -> Response:
    refused = await guard(request)
    if refused:
        return refused
    if request.headers.get("x-atlassian-token") != "no-check":
        return errors(403, "XSRF check failed: send X-Atlassian-Token: no-check.")
    issue = lookup(key)
    if issue is None:
        return errors(404, "Issue Does Not Exist")
    raw = await request.body()
    message: Any = BytesParser(policy=default_policy).parsebytes(
        f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode() + raw
    )
    attached = []
    for part in message.iter_parts():
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename() or "file"
        with lock:
            attachment = {
                "id": str(20000 + len(issue["attachments"]) + 1),
                "filename": filename,
                "size": len(data),
                "mimeType": part.get_content_type(),
                "png": data[:8] == b"\x89PNG\r\n\x1a\n",
                "created": now_jira(),
            }
            issue["attachments"].append(attachment)
        attached.append(
            {
                **attachment,
                "self": f"{request.base_url}jira/rest/api/2/attachment/{attachment['id']}",
                "content": "",
            }
        )
    if not attached:
        return errors(400, "No file was attached.")
    STATE.record(
        "jira",
        "attachment",
        {"files": [a["filename"] for a in attached], "png": [a["png"] for a in attached]},
        key=issue["key"],
    )
    return JSONResponse(attached)


def matches(issue: dict[str, Any], clauses: list[tuple[str, str, str]]) -> bool:
    for field, op, value in clauses:
        if field == "project":
            actual: list[str] = [issue["fields"]["project"]["key"]]
        elif field == "labels":
            actual = issue["fields"]["labels"]
        elif field == "status":
            actual = [issue["status"]]
        elif field == "statuscategory":
            category: dict[str, Any] = dict(STATUSES[issue["status"]]["statusCategory"])
            actual = [category["key"], category["name"]]
        elif field == "key":
            actual = [issue["key"]]
        else:
            actual = [issue["fields"]["issuetype"]["name"]]
        found = value in actual
        if (op == "=") != found:
            return False
    return True


async def run_search(request: Request, cloud: bool) -> Response:
    refused = await guard(request)
    if refused:
        return refused
    args: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        args.update(json.loads(await request.body() or b"{}"))
    jql = str(args.get("jql", ""))
    STATE.record("jira", "search/jql" if cloud else "search", {"jql": jql})
    try:
        query = parse(jql)
    except JqlError as error:
        return errors(400, str(error))
    with lock:
        found = [i for i in issues.values() if matches(i, query.clauses)]
        found.sort(key=lambda i: i["created_seq"], reverse=query.descending)
        limit = int(args.get("maxResults", 50) or 50)
        page = [issue_json(request, i) for i in found[:limit]]
    if cloud:
        return JSONResponse({"issues": page, "isLast": True})
    return JSONResponse({"startAt": 0, "maxResults": limit, "total": len(found), "issues": page})


@router.api_route("/search", methods=["GET", "POST"])
async def search(request: Request) -> Response:
    if settings["deploymentType"] == "Cloud":
        return errors(
            410, "The requested API has been removed. Please migrate to /rest/api/2/search/jql."
        )
    return await run_search(request, cloud=False)


@router.api_route("/search/jql", methods=["GET", "POST"])
async def search_jql(request: Request) -> Response:
    return await run_search(request, cloud=True)


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
                    {"filename": a["filename"], "png": a["png"]} for a in i["attachments"]
                ],
                "transitions": list(i["transitions"]),
            }
            for i in issues.values()
        ]
