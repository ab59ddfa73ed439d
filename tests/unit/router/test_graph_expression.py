"""The series an alert's graph draws beside its expression (router/graph_expression.py): the side
of each top-level comparison that is a series, from an expression anyone posting an alert writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from router.graph_expression import LONGEST_EXPRESSION, compared_series

RULES = Path(__file__).resolve().parents[3] / "alert_rules" / "booking.rules.yml"


def split(expression: str) -> list[tuple[str, str, float | None]]:
    return [(c.series, c.operator, c.threshold) for c in compared_series(expression)]


def rule(name: str) -> str:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return next(str(r["expr"]) for g in groups for r in g["rules"] if r.get("alert") == name)


def test_redis_down_draws_redis_up_against_zero() -> None:
    assert split(rule("RedisDown")) == [('redis_up{job="redis"}', "==", 0.0)]


def test_a_guarded_ratio_draws_the_ratio_not_its_guard() -> None:
    """`and` keeps its left side's values: the guard (`rate > 1`) is not what fired."""
    (ratio,) = compared_series(rule("HighErrorRate"))
    assert ratio.shown().startswith("( sum by (job) (rate(http_requests_total{job=")
    assert ratio.shown().endswith('/ sum by (job) (rate(http_requests_total{job="booking"}[1m])) )')
    assert ratio.against() == "> 0.05"


def test_each_alternative_of_or_draws_its_series() -> None:
    first, second = compared_series(rule("RedisMasterFailover"))
    assert first.shown().startswith("count by (master_name) ( count by (master_name, master_")
    assert (first.operator, first.threshold) == (">", 1.0)
    assert second.shown() == (
        'max by (master_name) (redis_sentinel_master_status{job="redis_sentinel"})'
    )
    assert second.against() == "== 0"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("up > 0", [("up", ">", 0.0)]),
        ("((up < 1))", [("up", "<", 1.0)]),
        ("0.9 < ratio", [("ratio", ">", 0.9)]),  # the series on the left, the operator mirrored
        ("a > bool 1", [("a", ">", 1.0)]),
        ("a >= b", [("a", ">=", None)]),
        ('x{path=">", q="a == b"} != 3', [('x{path=">", q="a == b"}', "!=", 3.0)]),
        ('x{q="a\\" > 1"} == 1', [('x{q="a\\" > 1"}', "==", 1.0)]),
        ("time() - max(t > 0) > 15", [("time() - max(t > 0)", ">", 15.0)]),
        ("a and on(job) b > 1 or ignoring(x) c < 2", [("c", "<", 2.0)]),
        ("brand_new > 1 unless android", [("brand_new", ">", 1.0)]),
        ("x > 1 OR y > 1 or x > 2", [("x", ">", 1.0), ("y", ">", 1.0)]),
    ],
)
def test_top_level_comparisons_split_into_their_series(
    expression: str, expected: list[tuple[str, str, float | None]]
) -> None:
    assert split(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "up",  # no comparison: the graph stays the expression's own
        "vector(1)",
        "(a > 1) + 1",  # the comparison is not at the top level
        "5 > 3",  # no series on either side
        "> 1",
        "a >",
        "a > (1",  # unbalanced
        "a) > (1",
        'a{x="unterminated} > 1',
        "a # a comment\n > 1",
        "a > 1" + " " * LONGEST_EXPRESSION,
        "(" * 5000 + "a > 1" + ")" * 5000,
        "0 * (x > 1 and y > 1) + 14.4 or 0 * (z > 6) + 6",  # the SLO burn rules' shape
    ],
)
def test_what_cannot_be_split_draws_nothing_beside(expression: str) -> None:
    assert split(expression) == []
