"""`GET /dashboards` (the list) and `GET /dashboards/<uid>`: the four dashboards of `dashboards/`
drawn with plotly from Prometheus over a chosen window (?from=&to=, ISO or now-1h), the panel
ids kept so Grafana's `?viewPanel=<id>` links land on a panel (#panel-<id>)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboards.definitions import DASHBOARDS
from router.dashboard_data import dashboard, dashboard_data, step_for
from router.routes import parts_of
from router.time_window import CHOICES, BadWindow, time_window
from router.view_pages import page, problem_page

DEFAULT_FROM = "now-1h"
dashboard_pages = APIRouter()


@dashboard_pages.get("/dashboards", response_class=HTMLResponse, summary="the dashboards")
def dashboards() -> HTMLResponse:
    return page("dashboards.html", section="dashboards", boards=DASHBOARDS)


@dashboard_pages.get(
    "/dashboards/{uid}", response_class=HTMLResponse, summary="one dashboard, drawn"
)
def one_dashboard(uid: str, request: Request) -> HTMLResponse:
    board = dashboard(uid)
    if board is None:
        known = ", ".join(b.uid for b in DASHBOARDS)
        return problem_page(
            404, "No such dashboard", f"There is no dashboard {uid[:80]!r}; there are {known}.",
            "/dashboards",
        )  # fmt: skip
    asked = request.query_params
    try:
        window = time_window(asked.get("from"), asked.get("to"), DEFAULT_FROM)
    except BadWindow as error:
        return problem_page(400, "Bad time window", str(error), f"/dashboards/{board.uid}")
    panels = dashboard_data(parts_of(request).settings.prometheus_url, board, window)
    return page(
        "dashboard.html",
        board=board,
        window=window,
        step=step_for(window),
        panels=[panel.as_json() for panel in panels],
        choices=CHOICES,
    )
