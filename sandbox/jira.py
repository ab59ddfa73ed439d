"""Jira REST v2 at `/jira/rest/api/2/...`: serverInfo, field, issue create/get, comment,
transitions, attachments (search is in jira_search.py). Basic auth required, as on a real server;
Jira's limits too: a summary of at most 255 characters on one line, text fields (description,
comment) of at most 32,767.
"""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from sandbox.images import keep_image
from sandbox.jira_issues import (
    PRIORITIES,
    STATUSES,
    TARGET_STATUS,
    TEXT_FIELD_LIMIT,
    TOO_LONG,
    TRANSITIONS,
    errors,
    guard,
    issue_json,
    issues,
    lock,
    lookup,
    now_jira,
    settings,
)
from sandbox.state import STATE, injected_fault

router = APIRouter(prefix="/jira/rest/api/2")


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
            attachment_id = str(20000 + len(issue["attachments"]) + 1)
            attachment = {
                "id": attachment_id,
                "filename": filename,
                "size": len(data),
                "mimeType": part.get_content_type(),
                "png": keep_image(f"jira-{issue['key']}-{attachment_id}", data),
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
