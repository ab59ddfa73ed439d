"""Every dashboard panel's query, and every runbook query, on the real Prometheus: each parses,
and after a short load through the real booking service every panel returns data."""

from __future__ import annotations

import pytest

from dashboards.definitions import DASHBOARDS
from soundcheck.stack.stack import Stack
from tests.support.polling import eventually
from tests.support.prometheus_api import PrometheusApi
from tests.support.runbooks import runbook_queries

# Grafana's macros, as Grafana would fill them for a 5 s scrape interval.
MACROS = {"$__rate_interval": "1m"}
PANEL_QUERIES = [
    (f"{board.uid}#{panel.id}", query.expr)
    for board in DASHBOARDS
    for panel in board.panels
    for query in panel.queries
]


def promql(expr: str) -> str:
    for macro, value in MACROS.items():
        expr = expr.replace(macro, value)
    return expr


@pytest.fixture(scope="module")
def after_load(stack: Stack, prometheus: PrometheusApi) -> PrometheusApi:
    from tests.support.booking_load import drive_load, release_customers

    failures: list[str] = []
    codes = drive_load(stack.part("booking").address(), failures=failures)
    release_customers(stack.settings)  # their ACTIVE tokens would fill the queue for 600 s
    assert codes.count(201) > 0, f"the load booked nothing: {sorted(set(codes))}"
    assert not failures, f"the load itself must not fail: {failures[:5]}"
    return prometheus


@pytest.mark.parametrize(("panel", "expr"), PANEL_QUERIES, ids=[p for p, _ in PANEL_QUERIES])
def test_panel_query_parses_and_returns_data(
    after_load: PrometheusApi, panel: str, expr: str
) -> None:
    answer = after_load.query(promql(expr))
    assert answer["status"] == "success", f"{panel}: {answer.get('error')}"
    eventually(lambda: after_load.series(promql(expr)), 60, f"{panel} returns data: {expr}")


@pytest.mark.parametrize(("alert", "expr"), runbook_queries(), ids=lambda x: str(x)[:60])
def test_runbook_query_parses(prometheus: PrometheusApi, alert: str, expr: str) -> None:
    answer = prometheus.query(expr)
    assert answer["status"] == "success", f"{alert}: {expr}: {answer.get('error')}"
