"""The saved searches, defined once: Kibana gets their KQL, the CLI runs the same conditions.

Each search is a list of conditions; `kql()` renders them for the Kibana saved object and
`query()` renders the same conditions as Elasticsearch query DSL, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.documents import ERROR_LEVELS

TRACE_ID_PLACEHOLDER = "<trace id>"


@dataclass(frozen=True)
class Condition:
    """`field` is one of `values`, or (with `greater_than`) above a number."""

    field: str
    values: tuple[str, ...] = ()
    greater_than: int | None = None

    def kql(self) -> str:
        if self.greater_than is not None:
            return f"{self.field} > {self.greater_than}"
        quoted = [f'"{value}"' for value in self.values]
        joined = quoted[0] if len(quoted) == 1 else "(" + " or ".join(quoted) + ")"
        return f"{self.field}: {joined}"

    def query(self) -> dict[str, Any]:
        if self.greater_than is not None:
            return {"range": {self.field: {"gt": self.greater_than}}}
        return {"terms": {self.field: list(self.values)}}


@dataclass(frozen=True)
class SavedSearch:
    id: str
    title: str
    description: str
    data_view: str
    conditions: tuple[Condition, ...]
    columns: tuple[str, ...]
    sort_ascending: bool = False
    needs_trace_id: bool = False
    group_by: str | None = None

    def with_trace_id(self, trace_id: str | None) -> tuple[Condition, ...]:
        if not self.needs_trace_id:
            return self.conditions
        wanted = (trace_id or TRACE_ID_PLACEHOLDER,)
        return (*self.conditions, Condition("trace.id", wanted))

    def kql(self) -> str:
        return " and ".join(c.kql() for c in self.with_trace_id(None))

    def query(self, trace_id: str | None = None, since: str | None = None) -> dict[str, Any]:
        filters = [c.query() for c in self.with_trace_id(trace_id)]
        if since:
            filters.append({"range": {"@timestamp": {"gte": f"now-{since}"}}})
        return {"bool": {"filter": filters}}

    @property
    def index(self) -> str:
        return f"{self.data_view}-*"


@dataclass(frozen=True)
class DataView:
    id: str
    title: str
    default_columns: tuple[str, ...] = field(default=())


DATA_VIEWS = (
    DataView("soundcheck-logs", "logs-*"),
    DataView("soundcheck-traces", "traces-*"),
)
ONE_SECOND_NANOSECONDS = 1_000_000_000

SAVED_SEARCHES = (
    SavedSearch(
        id="soundcheck-errors-by-service",
        title="errors by service",
        description="Log lines at ERROR (or worse), newest first; the CLI groups them by service.",
        data_view="logs",
        conditions=(Condition("log.level", ERROR_LEVELS),),
        columns=("service.name", "log.level", "event.action", "message", "trace.id"),
        group_by="service.name",
    ),
    SavedSearch(
        id="soundcheck-lock-acquisition-failures",
        title="lock acquisition failures",
        description="Distributed (Redis) lock acquisitions that gave up (event "
        "distributed_lock.acquisition_failed), newest first.",
        data_view="logs",
        conditions=(Condition("event.action", ("distributed_lock.acquisition_failed",)),),
        columns=("service.name", "lock.key", "message", "trace.id"),
    ),
    SavedSearch(
        id="soundcheck-slow-requests",
        title="slow requests (> 1 s)",
        description="HTTP requests (completed or failed) whose event.duration (ECS, "
        "nanoseconds) is over one second, newest first.",
        data_view="logs",
        conditions=(
            Condition("event.action", ("http.request.completed", "http.request.failed")),
            Condition("event.duration", greater_than=ONE_SECOND_NANOSECONDS),
        ),
        columns=(
            "service.name",
            "http.request.method",
            "url.path",
            "http.response.status_code",
            "event.duration",
            "trace.id",
        ),
    ),
    SavedSearch(
        id="soundcheck-logs-of-one-trace",
        title="all logs of one trace",
        description="Every log line of one trace in order. In Kibana, replace "
        f"{TRACE_ID_PLACEHOLDER} in the query with the trace id; on the command line pass "
        "--trace-id.",
        data_view="logs",
        conditions=(),
        columns=("service.name", "log.level", "event.action", "message", "span.id"),
        sort_ascending=True,
        needs_trace_id=True,
    ),
)


ALL_LOGS = SavedSearch(
    id="",
    title="all log lines",
    description="Every log line, newest first.",
    data_view="logs",
    conditions=(),
    columns=("service.name", "log.level", "message", "trace.id"),
)


def search_body(
    search: SavedSearch,
    *,
    trace_id: str | None = None,
    text: str | None = None,
    start: str | None = None,
    end: str | None = None,
    size: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """The Elasticsearch request for `search`, narrowed by a trace id, words (simple query
    string syntax, which never fails on a typo) and a time window (ISO or date math such as
    `now-15m`). The CLI and the router's /logs page both send this."""
    query = search.query(trace_id)
    filters = query["bool"]["filter"]
    if trace_id and not search.needs_trace_id:
        filters.append(Condition("trace.id", (trace_id,)).query())
    if start or end:
        window = {bound: value for bound, value in (("gte", start), ("lte", end)) if value}
        filters.append({"range": {"@timestamp": window}})
    if text:
        query["bool"]["must"] = [
            {"simple_query_string": {"query": text, "default_operator": "and", "lenient": True}}
        ]
    body: dict[str, Any] = {
        "query": query,
        "size": size,
        "from": offset,
        "track_total_hits": True,
        "sort": [{"@timestamp": {"order": "asc" if search.sort_ascending else "desc"}}],
    }
    if search.group_by:
        body["aggs"] = {"groups": {"terms": {"field": search.group_by, "size": 50}}}
    return body


class UnknownSearch(Exception):
    """No saved search has that name; the message lists the names there are."""


def find_search(name: str) -> SavedSearch:
    """A saved search by id (with or without `soundcheck-`) or title, in any case."""
    wanted = name.strip().lower()
    for search in SAVED_SEARCHES:
        names = {search.id, search.id.removeprefix("soundcheck-"), search.title.lower()}
        if wanted in names:
            return search
    known = ", ".join(s.id.removeprefix("soundcheck-") for s in SAVED_SEARCHES)
    raise UnknownSearch(f"There is no saved search called {name!r}; the searches are: {known}.")
