"""The data of a /dashboards page: each panel's queries (the definitions the Grafana JSON is
built from, `dashboards/`) asked of Prometheus with query_range over the chosen window, as the
series plotly draws, with Grafana's `{{label}}` legends filled in and its units as axis formats."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from dashboards.definitions import DASHBOARDS
from dashboards.spec import DashboardSpec, PanelSpec, with_rate_interval
from router.time_window import TimeWindow

if TYPE_CHECKING:  # httpx loads when a page is asked for: the webhook process starts without it
    import httpx

POINTS = 240  # per series: enough for a smooth line, little for the browser
PARALLEL_QUERIES = 4  # a page's panels asked of Prometheus at once, not one after another
SHORTEST_STEP_SECONDS = 5  # the scrape interval: a finer step only repeats samples
LEGEND_LABEL = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Grafana's unit names as plotly axis formats.
AXIS_FORMATS: dict[str, dict[str, str]] = {
    "percentunit": {"tickformat": ".0%"},
    "s": {"ticksuffix": " s"},
    "ops": {"ticksuffix": " /s"},
    "reqps": {"ticksuffix": " req/s"},
    "currencyKRW": {"tickprefix": "₩", "tickformat": ",.0f"},
}


def dashboard(uid: str) -> DashboardSpec | None:
    return next((board for board in DASHBOARDS if board.uid == uid), None)


@dataclass
class Series:
    name: str
    x: list[float]  # milliseconds since the epoch: plotly's dates, drawn in UTC
    y: list[float | None]


@dataclass
class PanelData:
    id: int
    title: str
    description: str
    axis: dict[str, str]
    series: list[Series] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def step_for(window: TimeWindow) -> int:
    return max(SHORTEST_STEP_SECONDS, round(window.seconds / POINTS))


def legend(template: str, labels: dict[str, str], expr: str) -> str:
    if template:
        return LEGEND_LABEL.sub(lambda m: labels.get(m.group(1), ""), template)
    shown = ", ".join(f'{name}="{value}"' for name, value in sorted(labels.items()))
    return "{" + shown + "}" if labels else expr


def number(value: str) -> float | None:
    parsed = float(value)
    return None if parsed != parsed or parsed in (float("inf"), float("-inf")) else parsed


def panel_data(client: httpx.Client, panel: PanelSpec, window: TimeWindow, step: int) -> PanelData:
    import httpx

    data = PanelData(panel.id, panel.title, panel.description, AXIS_FORMATS.get(panel.unit, {}))
    for query in panel.queries:
        try:
            response = client.get(
                "/api/v1/query_range",
                params={
                    "query": with_rate_interval(query.expr, step),
                    "start": window.start.timestamp(),
                    "end": window.end.timestamp(),
                    "step": step,
                },
            )
            answer = response.json()
        except (httpx.HTTPError, ValueError) as error:
            data.errors.append(f"Prometheus did not answer ({type(error).__name__}).")
            continue
        if answer.get("status") != "success":
            data.errors.append(f"Prometheus refused the query: {answer.get('error', '')[:200]}")
            continue
        for result in answer["data"]["result"]:
            data.series.append(
                Series(
                    legend(query.legend, result["metric"], query.expr),
                    [float(t) * 1000 for t, _ in result["values"]],
                    [number(v) for _, v in result["values"]],
                )
            )
    return data


def dashboard_data(
    prometheus_url: str, board: DashboardSpec, window: TimeWindow, timeout: float = 15.0
) -> list[PanelData]:
    import httpx

    step = step_for(window)
    with (
        httpx.Client(base_url=prometheus_url.rstrip("/"), timeout=timeout) as client,
        ThreadPoolExecutor(PARALLEL_QUERIES) as pool,
    ):
        return list(pool.map(lambda panel: panel_data(client, panel, window, step), board.panels))
