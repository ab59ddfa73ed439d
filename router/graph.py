"""The graph Slack and Jira messages and the incident page carry: the alert's expression over a
window and, beside it, the series its comparisons filter (`graph_expression`: `redis_up` for
`redis_up == 0`, whose own points exist only while Redis is down), drawn from the real Prometheus
(httpx, matplotlib: loaded only by the processes that draw)."""

from __future__ import annotations

import io
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from router.graph_expression import Compared, compared_series
from router.settings import RouterSettings

log = logging.getLogger(__name__)
GRAPH_WINDOW_SECONDS = 3600
MOST_POINTS = 600  # per series: a 1 s step over a 10-minute window, 6 s over the hour
MOST_LINES = 10  # per query
CONDITION_RED = "#b42318"


@dataclass(frozen=True)
class Line:
    """One series to draw: the alert's own expression (`condition`: points only while it held) or
    one its comparisons filter."""

    label: str
    times: tuple[float, ...]
    values: tuple[float, ...]
    condition: bool


def expression_of(generator_url: str) -> str | None:
    """The PromQL expression in a Prometheus generatorURL (`/graph?g0.expr=...`)."""
    values = parse_qs(urlsplit(generator_url).query).get("g0.expr")
    return values[0] if values else None


def render_graph(settings: RouterSettings, alert: dict[str, Any]) -> bytes | None:
    """A PNG of the alert's expression over the last hour, from the real Prometheus; None if not."""
    end = time.time()
    return render_window(settings, alert, end - GRAPH_WINDOW_SECONDS, end)


def render_window(
    settings: RouterSettings,
    alert: dict[str, Any],
    start: float,
    end: float,
    marks: tuple[tuple[float, str], ...] = (),
) -> bytes | None:
    """A PNG of the alert's expression and the series it compares from `start` to `end` (epoch
    seconds), with `marks` (fired, resolved) drawn as vertical lines; None without an
    expression or a Prometheus."""
    expression = expression_of(alert.get("generatorURL", ""))
    if not expression or not settings.graphs:
        return None
    compared = compared_series(expression)
    try:
        lines = graph_lines(settings, expression, compared, start, end)
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
        log.warning(
            "The graph query to Prometheus failed; the message goes without a graph",
            extra={"event": "graph.query_failed", "error.message": str(error)},
        )
        return None
    title = alert.get("labels", {}).get("alertname", "alert")
    return draw_lines(title, expression, lines, compared, marks, (start, end))


def graph_lines(
    settings: RouterSettings,
    expression: str,
    compared: tuple[Compared, ...],
    start: float,
    end: float,
) -> list[Line]:
    """The expression's series, then those of each series it compares (one Prometheus cannot
    answer is left out: the expression's own graph still says what fired)."""
    own = query_range(settings, expression, start, end)
    held = "condition held" if compared else ""
    lines = [line_of(item, held, True, len(own) > 1) for item in own[:MOST_LINES]]
    for each in compared:
        try:
            found = query_range(settings, each.series, start, end)
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            continue
        many = len(found) > 1
        lines += [line_of(item, each.shown(), False, many) for item in found[:MOST_LINES]]
    return lines


def query_range(settings: RouterSettings, query: str, start: float, end: float) -> list[Any]:
    step = max(1, math.ceil((end - start) / MOST_POINTS))
    response = httpx.get(
        f"{settings.prometheus_url.rstrip('/')}/api/v1/query_range",
        params={"query": query, "start": start, "end": end, "step": step},
        timeout=settings.target_timeout_seconds,
    )
    response.raise_for_status()
    result = response.json()["data"]["result"]
    if not isinstance(result, list):
        raise ValueError("Prometheus answered no list of series")
    return result


def line_of(item: dict[str, Any], name: str, condition: bool, with_labels: bool = True) -> Line:
    """A Prometheus series as a Line, labelled `name` and (`with_labels`) its labels."""
    points = item.get("values", [])
    metric = item.get("metric", {})
    labels = ",".join(f"{k}={v}" for k, v in sorted(metric.items()) if k != "__name__")
    label = " ".join(part for part in (name, labels if with_labels else "") if part) or "value"
    return Line(
        label[:70],
        tuple(float(t) for t, _ in points),
        tuple(float(v) for _, v in points),
        condition,
    )


def draw_lines(
    title: str,
    expression: str,
    lines: list[Line],
    compared: tuple[Compared, ...] = (),
    marks: tuple[tuple[float, str], ...] = (),
    window: tuple[float, float] | None = None,
) -> bytes:
    """The compared series as lines, the alert's own expression over them in red (where the
    condition held; dots when it held for a few points only), each threshold dashed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.dates import DateFormatter

    figure, axes = pyplot.subplots(figsize=(8, 3.2), dpi=100)
    try:
        beside = any(not line.condition for line in lines)
        for line in sorted(lines, key=lambda each: each.condition):
            times: Any = [datetime.fromtimestamp(t) for t in line.times]
            # An alert that fired for seconds is one or two points: dots, or nothing shows.
            dots = "o" if len(times) < 5 else None
            if line.condition and beside:
                style: dict[str, Any] = {"color": CONDITION_RED, "linewidth": 4, "alpha": 0.5}
            else:
                style = {"linewidth": 1.4}
            axes.plot(times, line.values, label=line.label, marker=dots, markersize=5, **style)
        thresholds = {(c.operator, c.threshold) for c in compared if c.threshold is not None}
        for operator, threshold in sorted(thresholds) if beside else []:
            label = f"threshold: {operator} {threshold:g}"
            axes.axhline(threshold, color="#667085", linestyle=":", label=label)
        for index, (moment, label) in enumerate(marks):
            when: Any = datetime.fromtimestamp(moment)
            # Fired and resolved seconds apart: the first label left of its line, the next right.
            side = "right" if index == 0 and len(marks) > 1 else "left"
            axes.axvline(when, color=CONDITION_RED, linestyle="--")
            axes.annotate(
                label,
                (when, 1.0),
                xycoords=("data", "axes fraction"),
                fontsize=7,
                color=CONDITION_RED,
                ha=side,
                va="top",
            )
        if not lines:
            axes.text(0.5, 0.5, "no data in this window", ha="center", transform=axes.transAxes)
        axes.set_title(f"{title}: {expression}"[:100], fontsize=9)
        if window is not None:  # the whole window, not only where the expression had values
            axes.set_xlim(datetime.fromtimestamp(window[0]), datetime.fromtimestamp(window[1]))  # type: ignore[arg-type]
        short = window is not None and window[1] - window[0] < 20 * 60
        ticks = DateFormatter("%H:%M:%S" if short else "%H:%M")  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_formatter(ticks)
        axes.grid(alpha=0.3)
        if lines:
            axes.legend(fontsize=7, loc="best")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        pyplot.close(figure)
    return buffer.getvalue()
