"""What a dashboard is made of (panels of Prometheus queries with a unit) before it becomes
Grafana's model; queries are normalised to one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grafana_foundation_sdk.models.dashboard import DataSourceRef

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")


RATE = "$__rate_interval"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class PanelSpec:
    id: int
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    description: str = ""


@dataclass(frozen=True)
class DashboardSpec:
    uid: str
    slug: str
    title: str
    description: str
    panels: tuple[PanelSpec, ...] = field(default_factory=tuple)


def q(expr: str, legend: str = "") -> Query:
    return Query(" ".join(expr.split()), legend)


def rate(selector: str) -> str:
    return f"rate({selector}[{RATE}])"


def with_rate_interval(expr: str, step_seconds: float, scrape_seconds: float = 5.0) -> str:
    """`expr` with `$__rate_interval` filled in as Grafana does: max(step + scrape, 4 * scrape)."""
    seconds = max(step_seconds + scrape_seconds, 4 * scrape_seconds)
    return expr.replace(RATE, f"{round(seconds)}s")
