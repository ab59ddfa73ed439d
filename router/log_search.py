"""What the /logs page asks Elasticsearch: a saved search (the ones Kibana ships and
`soundcheck logs search` runs, built by the same `pipeline.searches.search_body`), words, a
trace id and a time window; the answer as rows of time, service, level, message and trace id."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pipeline.documents import field
from pipeline.searches import ALL_LOGS, SavedSearch, UnknownSearch, find_search, search_body
from router.time_window import TimeWindow, time_window

PAGE_SIZE = 50
DEEPEST = 10_000  # Elasticsearch's max_result_window: from + size beyond it is refused
MAX_QUERY_CHARACTERS = 500
TRACE_ID = re.compile(r"[0-9a-f]{32}")
DEFAULT_FROM = "now-15m"


class BadLogQuery(ValueError):
    """A parameter of /logs is wrong; the message is the sentence the 400 page shows."""


class LogsUnavailable(Exception):
    """Elasticsearch did not answer or refused; the message says what to check."""


@dataclass(frozen=True)
class LogQuery:
    search: SavedSearch
    text: str
    trace_id: str
    window: TimeWindow
    page: int

    def parameters(self, **changed: object) -> dict[str, str]:
        """The page's URL parameters, with some changed (for links to other pages, traces)."""
        values = {
            "search": self.search.id.removeprefix("soundcheck-"),
            "q": self.text,
            "from": self.window.start_text,
            "to": self.window.end_text,
            "trace_id": self.trace_id,
            "page": "" if self.page == 1 else str(self.page),
        }
        values.update({name: str(value) for name, value in changed.items()})
        return values


@dataclass(frozen=True)
class LogLine:
    time: str
    service: str
    level: str
    message: str
    trace_id: str


@dataclass(frozen=True)
class LogPage:
    lines: list[LogLine]
    total: int
    last_page: int


def log_query(
    search: str | None, text: str | None, trace_id: str | None, start: str | None,
    end: str | None, page: str | None,
) -> LogQuery:  # fmt: skip
    try:
        saved = find_search(search) if search else ALL_LOGS
    except UnknownSearch as error:
        raise BadLogQuery(str(error)) from None
    text = (text or "").strip()
    if len(text) > MAX_QUERY_CHARACTERS:
        raise BadLogQuery(f"The query is longer than {MAX_QUERY_CHARACTERS} characters.")
    trace_id = (trace_id or "").strip().lower()
    if trace_id and not TRACE_ID.fullmatch(trace_id):
        raise BadLogQuery("`trace_id` must be 32 hexadecimal digits (an OpenTelemetry trace id).")
    if saved.needs_trace_id and not trace_id:
        raise BadLogQuery(f"The search {saved.title!r} needs a trace id: fill in the trace field.")
    try:
        window = time_window(start, end, DEFAULT_FROM)
    except ValueError as error:
        raise BadLogQuery(str(error)) from None
    number = (page or "1").strip()
    if not number.isdigit() or not 1 <= int(number) <= DEEPEST // PAGE_SIZE:
        raise BadLogQuery(f"`page` must be a number from 1 to {DEEPEST // PAGE_SIZE}.")
    return LogQuery(saved, text, trace_id, window, int(number))


def log_line(source: dict[str, Any]) -> LogLine:
    def text(name: str) -> str:
        value = field(source, name)
        return "" if value is None else str(value)

    return LogLine(
        text("@timestamp").replace("T", " ")[:23],
        text("service.name"),
        text("log.level"),
        text("message") or text("event.action"),
        text("trace.id"),
    )


def run_log_query(elasticsearch_url: str, query: LogQuery, timeout: float = 15.0) -> LogPage:
    # httpx loads when a page is asked for: the webhook process starts without it
    from pipeline.search_runner import SearchFailed, search_elasticsearch

    body = search_body(
        query.search,
        trace_id=query.trace_id or None,
        text=query.text or None,
        start=query.window.start.isoformat(),
        end=query.window.end.isoformat(),
        size=PAGE_SIZE,
        offset=(query.page - 1) * PAGE_SIZE,
    )
    body.pop("aggs", None)  # the page lists lines; the CLI's per-service counts are not shown
    try:
        hits = search_elasticsearch(elasticsearch_url, query.search.index, body, timeout)["hits"]
    except SearchFailed as error:
        raise LogsUnavailable(str(error)) from None
    total = int(hits["total"]["value"])
    last_page = max(1, -(-min(DEEPEST, total) // PAGE_SIZE))
    return LogPage([log_line(hit["_source"]) for hit in hits["hits"]], total, last_page)
