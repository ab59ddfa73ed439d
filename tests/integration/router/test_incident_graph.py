"""The alert's graph beside its expression, from the real Prometheus: the series the expression
compares, which has points where the condition never held (a 5-second RedisDown's `redis_up`)."""

from __future__ import annotations

import time

from router.graph import draw_lines, graph_lines
from router.graph_expression import compared_series
from router.settings import RouterSettings
from soundcheck.stack.stack import Stack


def test_the_graph_holds_the_compared_series_where_the_condition_never_held(
    router_parts: Stack, router_settings: RouterSettings
) -> None:
    expression = 'up{job="prometheus"} == 0'
    compared = compared_series(expression)
    end = time.time()
    lines = graph_lines(router_settings, expression, compared, end - 120, end)
    assert not [line for line in lines if line.condition], "Prometheus was never down"
    (series,) = lines
    assert series.label == 'up{job="prometheus"}'
    assert set(series.values) == {1.0}
    png = draw_lines("PrometheusDown", expression, lines, compared, window=(end - 120, end))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
