"""What the /logs and /dashboards pages ask of Elasticsearch and Prometheus, checked without
them: windows, log search parameters, the saved searches' bodies, legends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboards.spec import with_rate_interval
from pipeline.searches import find_search, search_body
from router.dashboard_data import legend
from router.log_search import BadLogQuery, log_query
from router.time_window import BadWindow, time_window

TRACE = "0af7651916cd43dd8448eb211c80319c"


def test_relative_window_ends_now_and_lasts_what_it_says() -> None:
    window = time_window("now-15m", None, "now-1h")
    assert window.end - window.start == timedelta(minutes=15)
    assert window.end_text == "now"


def test_iso_times_without_a_zone_are_utc() -> None:
    window = time_window("2026-11-30T20:00:00", "2026-11-30T21:00:00Z", "now-1h")
    assert window.start.isoformat() == "2026-11-30T20:00:00+00:00"
    assert window.seconds == 3600


@pytest.mark.parametrize(
    ("start", "end", "sentence"),
    [
        ("yesterday", "now", "`from` must be an ISO 8601 time"),
        ("now", "now-1h", "must be before"),
        ("now-60d", "now", "longer than 31 days"),
        ("now-1h", "<script>", "`to` must be an ISO 8601 time"),
    ],
)
def test_bad_windows_say_what_is_wrong(start: str, end: str, sentence: str) -> None:
    with pytest.raises(BadWindow, match=sentence):
        time_window(start, end, "now-1h")


def test_log_query_takes_a_saved_search_by_short_name_and_a_trace_id() -> None:
    query = log_query("errors-by-service", " timeout ", TRACE.upper(), None, None, "2")
    assert query.search.id == "soundcheck-errors-by-service"
    assert (query.text, query.trace_id, query.page) == ("timeout", TRACE, 2)
    assert query.parameters(page="")["search"] == "errors-by-service"


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (("nope", None, None, None, None, None), "no saved search called 'nope'"),
        ((None, "x" * 501, None, None, None, None), "longer than 500"),
        ((None, None, "abc", None, None, None), "32 hexadecimal digits"),
        (("logs-of-one-trace", None, None, None, None, None), "needs a trace id"),
        ((None, None, None, None, None, "201"), "from 1 to 200"),
    ],
)
def test_bad_log_queries_say_what_is_wrong(
    arguments: tuple[str | None, ...], sentence: str
) -> None:
    with pytest.raises(BadLogQuery, match=sentence):
        log_query(*arguments)


def test_search_body_keeps_the_saved_conditions_and_adds_the_filters() -> None:
    body = search_body(
        find_search("errors-by-service"),
        trace_id=TRACE,
        text="payment",
        start="now-15m",
        end="now",
        offset=50,
    )
    filters = body["query"]["bool"]["filter"]
    assert filters[0] == find_search("errors-by-service").query()["bool"]["filter"][0]
    assert {"terms": {"trace.id": [TRACE]}} in filters
    assert {"range": {"@timestamp": {"gte": "now-15m", "lte": "now"}}} in filters
    assert body["query"]["bool"]["must"][0]["simple_query_string"]["query"] == "payment"
    assert (body["from"], body["sort"]) == (50, [{"@timestamp": {"order": "desc"}}])


def test_legends_fill_grafana_labels_and_rate_interval_follows_the_step() -> None:
    assert legend("{{status}} / {{ missing }}", {"status": "201"}, "x") == "201 / "
    assert legend("", {"b": "2", "a": "1"}, "x") == '{a="1", b="2"}'
    assert with_rate_interval("rate(x[$__rate_interval])", 15) == "rate(x[20s])"
    assert with_rate_interval("rate(x[$__rate_interval])", 60) == "rate(x[65s])"
