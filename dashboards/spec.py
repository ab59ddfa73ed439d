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
