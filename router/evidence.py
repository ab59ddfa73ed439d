"""The evidence an incident page shows, from Elasticsearch: the error log lines of the alert's
service in the incident's window (the conditions of the "errors by service" saved search, the
one `soundcheck logs search errors-by-service` runs), then its warnings while there is room, and
one request's trace as a span tree.

Warnings count as evidence because a service that degrades on purpose says so at WARNING: without
Redis the booking service books on through its in-process lock and logs each fallback, with the
request's trace id. Those requests succeed, so ERROR would be a lie; and an incident page that
shows nothing while the service works around the fault leaves the on-call engineer guessing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from pipeline.documents import field as document_field
from pipeline.searches import Condition, find_search
from router.settings import RouterSettings

EVIDENCE_LINES = 20
WARNING_LEVELS = ("WARNING", "WARN", "warning", "warn")
TRACE_SPANS = 200
MESSAGE_LIMIT = 500
ROOT_SPANS_ONLY = {"exists": {"field": "parent.id"}}  # as must_not: a request's first span


class EvidenceUnavailable(Exception):
    """Elasticsearch could not answer; the page says so instead of failing."""


@dataclass(frozen=True)
class LogLine:
    timestamp: str
    level: str
    event: str
    message: str
    trace_id: str


@dataclass
class SpanNode:
    name: str
    service: str
    duration_ms: float
    status: str
    span_id: str
    depth: int = 0
    children: list[SpanNode] = field(default_factory=list)


@dataclass(frozen=True)
class Window:
    service: str
    start: str  # ISO 8601
    end: str  # ISO 8601, or "now"


def _search(settings: RouterSettings, index: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        answer = httpx.post(
            f"{settings.elasticsearch_url.rstrip('/')}/{index}/_search",
            params={"ignore_unavailable": "true", "allow_no_indices": "true"},
            json=body,
            timeout=10.0,
        )
    except httpx.HTTPError as error:
        raise EvidenceUnavailable(
            f"Elasticsearch at {settings.elasticsearch_url} did not answer ({error})."
        ) from error
    if answer.status_code != 200:
        raise EvidenceUnavailable(f"Elasticsearch refused the search ({answer.status_code}).")
    return [hit["_source"] for hit in answer.json()["hits"]["hits"]]


def _in_window(window: Window) -> list[dict[str, Any]]:
    return [
        {"term": {"service.name": window.service}},
        {"range": {"@timestamp": {"gte": window.start, "lte": window.end}}},
    ]


def _text(source: dict[str, Any], name: str, limit: int = 200) -> str:
    value = document_field(source, name)
    return "" if value is None else str(value)[:limit]


def _lines(
    settings: RouterSettings, window: Window, query: dict[str, Any], size: int
) -> list[LogLine]:
    query["bool"]["filter"] += _in_window(window)
    hits = _search(
        settings,
        "logs-*",
        {"query": query, "size": size, "sort": [{"@timestamp": {"order": "desc"}}]},
    )
    return [
        LogLine(
            _text(hit, "@timestamp").replace("T", " ")[:23],
            _text(hit, "log.level"),
            _text(hit, "event.action"),
            _text(hit, "message", MESSAGE_LIMIT),
            _text(hit, "trace.id", 64),
        )
        for hit in hits
    ]


def evidence_lines(settings: RouterSettings, window: Window) -> list[LogLine]:
    """The service's error lines in the window, newest first, then its warnings while fewer
    than EVIDENCE_LINES are shown; each with its trace id."""
    errors = _lines(settings, window, find_search("errors-by-service").query(), EVIDENCE_LINES)
    if len(errors) >= EVIDENCE_LINES:
        return errors
    warned = {"bool": {"filter": [Condition("log.level", WARNING_LEVELS).query()]}}
    return errors + _lines(settings, window, warned, EVIDENCE_LINES - len(errors))


@dataclass(frozen=True)
class ChosenTrace:
    trace_id: str
    why: str  # a sentence saying how this request was picked


def chosen_trace(
    settings: RouterSettings, window: Window, lines: list[LogLine]
) -> ChosenTrace | None:
    """The newest evidence line's trace that Elasticsearch holds, else the failed or slowest
    request of the window (a line's spans can still be on their way, or never have been sent)."""
    logged = list(dict.fromkeys(line.trace_id for line in lines if line.trace_id))
    if logged:
        hits = _search(
            settings,
            "traces-*",
            {
                "query": {"bool": {"filter": [{"terms": {"trace.id": logged}}]}},
                "size": 1,
                "sort": [{"@timestamp": {"order": "desc"}}],
            },
        )
        if hits and (trace_id := _text(hits[0], "trace.id", 64)):
            return ChosenTrace(trace_id, "The request of the newest line above.")
    hits = _search(
        settings,
        "traces-*",
        {
            "query": {"bool": {"filter": _in_window(window), "must_not": ROOT_SPANS_ONLY}},
            "size": 1,
            "sort": [{"event.outcome": {"order": "asc"}}, {"event.duration": {"order": "desc"}}],
        },
    )
    if not hits or not (trace_id := _text(hits[0], "trace.id", 64)):
        return None
    failed = _text(hits[0], "event.outcome") == "failure"
    why = "The window's failed request" if failed else "The window's slowest request"
    if logged:
        why += " (the log lines' traces are not in Elasticsearch yet)"
    return ChosenTrace(trace_id, why + ".")


def span_tree(settings: RouterSettings, trace_id: str) -> list[SpanNode]:
    """The trace's spans, each under its parent, flattened in reading order with a depth."""
    hits = _search(
        settings,
        "traces-*",
        {
            "query": {"term": {"trace.id": trace_id}},
            "size": TRACE_SPANS,
            "sort": [{"@timestamp": {"order": "asc"}}],
        },
    )
    nodes = {
        _text(hit, "span.id", 32): (
            _text(hit, "parent.id", 32),
            SpanNode(
                _text(hit, "span.name"),
                _text(hit, "service.name"),
                float(document_field(hit, "span.duration_ms") or 0.0),
                _text(hit, "span.status.code", 16),
                _text(hit, "span.id", 32),
            ),
        )
        for hit in hits
    }
    roots: list[SpanNode] = []
    for parent, node in nodes.values():
        if parent in nodes:
            nodes[parent][1].children.append(node)
        else:
            roots.append(node)
    ordered: list[SpanNode] = []

    def visit(node: SpanNode, depth: int) -> None:
        node.depth = depth
        ordered.append(node)
        for child in node.children:
            visit(child, depth + 1)

    for root in roots:
        visit(root, 0)
    return ordered
