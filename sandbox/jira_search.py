"""Jira issue search: `/search` (Server; gone on Cloud) and `/search/jql` (Cloud), JQL as the router
writes it (sandbox/jql.py).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from sandbox.jira_issues import STATUSES, errors, guard, issue_json, issues, lock, settings
from sandbox.jql import JqlError, parse
from sandbox.state import STATE

router = APIRouter(prefix="/jira/rest/api/2")


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
