"""`GET /logs`: the saved searches, a query bar, a time window and a trace-id filter over the
log lines in Elasticsearch, newest first, a page at a time.

URL: /logs?q=<words>&from=<ISO or now-15m>&to=<ISO or now>&trace_id=<32 hex>&search=<saved
search>&page=<n>; the incident pages link here with those parameters."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pipeline.searches import SAVED_SEARCHES
from router.log_search import BadLogQuery, LogsUnavailable, log_query, run_log_query
from router.routes import parts_of
from router.time_window import CHOICES
from router.view_pages import page, problem_page

logs_pages = APIRouter()


@logs_pages.get("/logs", response_class=HTMLResponse, summary="search the log lines")
def logs(request: Request) -> HTMLResponse:
    asked = request.query_params
    try:
        query = log_query(
            asked.get("search"),
            asked.get("q"),
            asked.get("trace_id"),
            asked.get("from"),
            asked.get("to"),
            asked.get("page"),
        )
    except BadLogQuery as error:
        return problem_page(400, "Bad log search", str(error), "/logs")
    try:
        found = run_log_query(parts_of(request).settings.elasticsearch_url, query)
    except LogsUnavailable as error:
        return problem_page(502, "Logs unavailable", str(error), "/logs")
    return page(
        "logs.html",
        query=query,
        found=found,
        searches=SAVED_SEARCHES,
        choices=CHOICES,
    )
