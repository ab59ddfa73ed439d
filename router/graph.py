"""The graph Slack and Jira messages carry: the alert's expression over the last hour, drawn from
the real Prometheus (httpx, matplotlib: loaded only by the delivery process)."""

from __future__ import annotations

import io
import logging
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from router.settings import RouterSettings

log = logging.getLogger(__name__)
GRAPH_WINDOW_SECONDS = 3600


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
    """A PNG of the alert's expression from `start` to `end` (epoch seconds), with `marks`
    (fired, resolved) drawn as vertical lines; None without an expression or a Prometheus."""
    expression = expression_of(alert.get("generatorURL", ""))
    if not expression or not settings.graphs:
        return None
    step = max(15, int((end - start) / 240))  # at most ~240 points, whatever the window
    try:
        response = httpx.get(
            f"{settings.prometheus_url.rstrip('/')}/api/v1/query_range",
            params={"query": expression, "start": start, "end": end, "step": step},
            timeout=settings.target_timeout_seconds,
        )
        response.raise_for_status()
        series = response.json()["data"]["result"]
    except (httpx.HTTPError, ValueError, KeyError) as error:
        log.warning(
            "The graph query to Prometheus failed; the message goes without a graph",
            extra={"event": "graph.query_failed", "error.message": str(error)},
        )
        return None
    title = alert.get("labels", {}).get("alertname", "alert")
    return draw_series(title, expression, series, marks, (start, end))


def draw_series(
    title: str,
    expression: str,
    series: list[dict[str, Any]],
    marks: tuple[tuple[float, str], ...] = (),
    window: tuple[float, float] | None = None,
) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.dates import DateFormatter

    figure, axes = pyplot.subplots(figsize=(8, 3.2), dpi=100)
    try:
        for item in series[:10]:
            points = item.get("values", [])
            times: Any = [datetime.fromtimestamp(float(t)) for t, _ in points]
            values = [float(v) for _, v in points]
            metric = item.get("metric", {})
            shown = sorted((k, v) for k, v in metric.items() if k != "__name__")
            name = ",".join(f"{k}={v}" for k, v in shown)[:60] or "value"
            # An alert that fired for seconds is one or two points: dots, or nothing shows.
            dots = "o" if len(points) < 5 else None
            axes.plot(times, values, label=name, linewidth=1.2, marker=dots, markersize=4)
        for moment, label in marks:
            when: Any = datetime.fromtimestamp(moment)
            axes.axvline(when, color="#b42318", linestyle="--")
            axes.annotate(
                label,
                (when, 1.0),
                xycoords=("data", "axes fraction"),
                fontsize=7,
                color="#b42318",
                ha="left",
                va="top",
            )
        if not series:
            axes.text(0.5, 0.5, "no data in this window", ha="center", transform=axes.transAxes)
        axes.set_title(f"{title}: {expression}"[:100], fontsize=9)
        if window is not None:  # the whole window, not only where the expression had values
            axes.set_xlim(datetime.fromtimestamp(window[0]), datetime.fromtimestamp(window[1]))  # type: ignore[arg-type]
        short = window is not None and window[1] - window[0] < 20 * 60
        ticks = DateFormatter("%H:%M:%S" if short else "%H:%M")  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_formatter(ticks)
        axes.grid(alpha=0.3)
        if series:
            axes.legend(fontsize=7, loc="upper left")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        pyplot.close(figure)
    return buffer.getvalue()
