"""What an alert's graph draws beside its expression: the series the expression compares. A rule
like `redis_up == 0` has points only while it holds (a 5-second RedisDown is one dot), while its
left-hand side `redis_up` shows the fall and the recovery.

The expression comes from the alert's generatorURL, which anyone who can post an alert writes: it
is split by a scanner that never evaluates anything and gives up (an empty answer: the graph
stays as it was) on whatever it does not understand. The parts go to Prometheus's read-only query
API, as the whole expression already does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LONGEST_EXPRESSION = 2000  # characters; the rules' longest is ~600
MOST_SERIES = 3
MOST_UNWRAPPED = 5  # `((a > 1))`: parentheses around the whole expression
COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")
MIRRORED = {">": "<", "<": ">", ">=": "<=", "<=": ">=", "==": "==", "!=": "!="}
SET_OPERATORS = {"and", "or", "unless"}
CLOSER = {"(": ")", "[": "]", "{": "}"}
QUOTES = "\"'`"
IDENTIFIER = re.compile(r"[A-Za-z0-9_:]")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.IGNORECASE)
# `x and on(job) y`: the matching clause after a set operator belongs to no side.
MATCHING = re.compile(r"^\s*(on|ignoring)\s*\([^()]*\)", re.IGNORECASE)
BOOL = re.compile(r"^\s*bool\b", re.IGNORECASE)


class Unsplittable(ValueError):
    """The expression is not one this module can split (it may still be valid PromQL)."""


@dataclass(frozen=True)
class Compared:
    """One comparison of an alert's expression: `series operator threshold`."""

    series: str  # PromQL: the side that is not a number, `redis_up{job="redis"}`
    operator: str  # as if the series were on the left: `==`
    threshold: float | None  # the other side, when it is a number

    def shown(self) -> str:
        """The series on one line."""
        return " ".join(self.series.split())

    def against(self) -> str:
        """`== 0`, or "" when the other side is no number."""
        return "" if self.threshold is None else f"{self.operator} {self.threshold:g}"


def compared_series(expression: str) -> tuple[Compared, ...]:
    """The series each top-level comparison of `expression` filters (at most MOST_SERIES, each
    once), in order; none when it has no comparison at its top level or cannot be split."""
    if len(expression) > LONGEST_EXPRESSION:
        return ()
    try:
        inner = without_outer_parentheses(expression)
        operators = top_level_operators(inner)
    except Unsplittable:
        return ()
    found: list[Compared] = []
    for clause, comparisons in clauses(inner, operators):
        compared = one_comparison(clause, comparisons)
        if compared is not None and compared.series not in {c.series for c in found}:
            found.append(compared)
    return tuple(found[:MOST_SERIES])


def top_level_operators(expression: str) -> list[tuple[int, str]]:
    """(position, operator) of every comparison and set operator outside brackets and strings."""
    if len(expression) > LONGEST_EXPRESSION:
        raise Unsplittable("too long")
    found: list[tuple[int, str]] = []
    open_brackets: list[str] = []
    i = 0
    while i < len(expression):
        char = expression[i]
        if char in QUOTES:
            i = end_of_string(expression, i)
            continue
        if char == "#":
            raise Unsplittable("a comment")
        if char in CLOSER:
            open_brackets.append(CLOSER[char])
        elif char in CLOSER.values():
            if not open_brackets or open_brackets.pop() != char:
                raise Unsplittable("unbalanced brackets")
        elif not open_brackets:
            operator = operator_at(expression, i)
            if operator:
                found.append((i, operator))
                i += len(operator)
                continue
        i += 1
    if open_brackets:
        raise Unsplittable("unbalanced brackets")
    return found


def operator_at(expression: str, i: int) -> str:
    """The comparison or set operator that starts at `i`, or ""."""
    for comparison in COMPARISONS:
        if expression.startswith(comparison, i):
            return comparison
    if i > 0 and IDENTIFIER.match(expression[i - 1]):
        return ""
    word = re.match(r"[A-Za-z_][A-Za-z0-9_:]*", expression[i:])
    if word and word.group().lower() in SET_OPERATORS:
        return word.group()
    return ""


def end_of_string(expression: str, start: int) -> int:
    """The position after the string literal opening at `start` (backslash escapes but in `...`)."""
    quote, i = expression[start], start + 1
    while i < len(expression):
        if expression[i] == "\\" and quote != "`":
            i += 2
            continue
        if expression[i] == quote:
            return i + 1
        i += 1
    raise Unsplittable("an unterminated string")


def without_outer_parentheses(expression: str) -> str:
    """`(a > 1)` → `a > 1`, as often as they enclose the whole expression."""
    stripped = expression.strip()
    for _ in range(MOST_UNWRAPPED):  # each look is a scan: bounded for hostile nesting
        if not (stripped.startswith("(") and stripped.endswith(")")):
            break
        inner = stripped[1:-1]
        try:
            top_level_operators(inner)  # balanced inside: the two enclose everything
        except Unsplittable:
            break
        stripped = inner.strip()
    return stripped


def clauses(
    expression: str, operators: list[tuple[int, str]]
) -> list[tuple[str, list[tuple[int, str]]]]:
    """The clauses whose values the expression returns, each with its comparisons (positions in
    the clause): the first of each `or` alternative, since `and` and `unless` keep their left
    side's values (`ratio > 0.05 and rate > 1` draws the ratio, not the rate it is guarded by)."""
    cut: list[tuple[str, list[tuple[int, str]]]] = []
    start, comparisons, leads = 0, [], True
    for position, operator in [*operators, (len(expression), "or")]:
        if operator.lower() not in SET_OPERATORS:
            comparisons.append((position, operator))
            continue
        if leads:
            clause = expression[start:position]
            matching = MATCHING.match(clause) if start else None
            skip = matching.end() if matching else 0
            cut.append((clause[skip:], [(p - start - skip, o) for p, o in comparisons]))
        start, comparisons = position + len(operator), []
        leads = operator.lower() == "or"
    return cut


def one_comparison(clause: str, comparisons: list[tuple[int, str]]) -> Compared | None:
    """`A op B` split at its first comparison (comparisons bind left to right); None when a side
    is empty or neither side is a series."""
    if not comparisons:
        return None
    position, operator = comparisons[0]
    left = clause[:position].strip()
    right = BOOL.sub("", clause[position + len(operator) :], count=1).strip()
    if not left or not right:
        return None
    if NUMBER.fullmatch(left):
        if NUMBER.fullmatch(right):
            return None
        return Compared(right, MIRRORED[operator], float(left))
    return Compared(left, operator, float(right) if NUMBER.fullmatch(right) else None)
