"""The plan's four Grafana dashboards (§5-3-2) as code, with grafana-foundation-sdk: the list of
them (one module each) and how a spec becomes a Grafana dashboard.

Panel ids are fixed: alerts link to `/d/<uid>/<slug>?viewPanel=<id>`, and a test checks every
such link lands on a panel here. Every query names its Prometheus `job`, so the query test knows
which running part must give it data. The datasource is the `datasource` variable, so one JSON
works against any Grafana's Prometheus.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus, timeseries
from grafana_foundation_sdk.models.dashboard import DashboardCursorSync, GridPos

from dashboards.business import BUSINESS
from dashboards.distributed_lock import DISTRIBUTED_LOCK
from dashboards.infrastructure import INFRASTRUCTURE
from dashboards.spec import DATASOURCE, DashboardSpec
from dashboards.system_health import SYSTEM_HEALTH

DASHBOARDS = (BUSINESS, SYSTEM_HEALTH, INFRASTRUCTURE, DISTRIBUTED_LOCK)


def build(spec: DashboardSpec) -> dash.Dashboard:
    """The Grafana dashboard for `spec`: a datasource variable and a 2-column grid of panels."""
    board = (
        dash.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(["soundcheck"])
        .time("now-1h", "now")
        .refresh("30s")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .with_variable(dash.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
    )
    for index, panel in enumerate(spec.panels):
        built = (
            timeseries.Panel()
            .id(panel.id)
            .title(panel.title)
            .description(panel.description)
            .datasource(DATASOURCE)
            .unit(panel.unit)
            .grid_pos(GridPos(h=8, w=12, x=12 * (index % 2), y=8 * (index // 2)))
        )
        for ref, query in zip("ABCDEFGH", panel.queries, strict=False):
            built = built.with_target(
                prometheus.Dataquery()
                .expr(query.expr)
                .legend_format(query.legend)
                .ref_id(ref)
                .datasource(DATASOURCE)
            )
        board = board.with_panel(built)
    return board
