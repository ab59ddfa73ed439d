"""A drill's report.html: one self-contained page (plotly.js inlined), the timeline first (fault
window shaded; throughput, errors and p95 of the background traffic; each alert's pending,
firing and resolved as bars; pages as markers), then the verdicts beside their targets."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from loadtest.report import CSS, fmt, table
from loadtest.report_figures import FAIL, NODATA, PASS, embed, figure

BAR_COLOURS = {"pending": "#d4a72c", "firing": FAIL, "resolving": NODATA}
SPARSE_MODE = "lines+markers"  # series with empty seconds (None) between their points


def shade_fault(fig: go.Figure, journal: dict[str, Any], start: float) -> None:
    window = journal["window"]
    if window["fault_started"] is None:
        return
    end = window["repair_finished"] or window["fault_ended"] or window["fault_started"]
    fig.add_vrect(
        x0=window["fault_started"] - start,
        x1=end - start,
        fillcolor=FAIL,
        opacity=0.08,
        line_width=0,
        annotation_text="fault",
        annotation_position="top left",
    )


def traffic_figures(journal: dict[str, Any], start: float) -> list[go.Figure]:
    traffic = journal.get("traffic")
    if not traffic:
        return []
    series = traffic["series"]
    x = [p["t"] - start for p in series]
    rate = figure("Background traffic: answers and errors per second", "requests/s")
    rate.add_scatter(x=x, y=[p["requests"] for p in series], name="answers/s", mode="lines")
    rate.add_bar(x=x, y=[p["failures"] for p in series], name="errors/s", marker_color=FAIL)
    errors = figure("Error rate", "% of answers")
    errors.add_scatter(
        x=x,
        y=[100.0 * p["failures"] / p["requests"] if p["requests"] else None for p in series],
        name="error %",
        # Markers too: inside a fault, answers come in seconds between empty ones, and a lone
        # point between gaps draws no line (a 100 % second read as 0 % in the picture).
        mode=SPARSE_MODE,
        line={"color": FAIL},
    )
    latency = figure("p95 latency of the timed requests (per second)", "ms")
    latency.add_scatter(x=x, y=[p["p95_ms"] for p in series], name="p95", mode=SPARSE_MODE)
    figures = [rate, errors, latency]
    for fig in figures:
        shade_fault(fig, journal, start)
        mark_pages(fig, journal, start)
    return figures


def mark_pages(fig: go.Figure, journal: dict[str, Any], start: float) -> None:
    for page in journal["timeline"]["pages"]:
        colour = FAIL if page["kind"] == "trigger" else PASS
        fig.add_vline(x=page["at"] - start, line={"color": colour, "dash": "dot", "width": 1})


def alert_figure(journal: dict[str, Any], start: float, now: float) -> go.Figure:
    alerts = {n: a for n, a in journal["timeline"]["alerts"].items() if not a["before_the_drill"]}
    fig = figure(
        "Alerts: pending, firing, resolved; pages (▼ trigger, ▲ resolve)",
        "",
        height=max(220, 70 + 34 * len(alerts)),
    )
    for name, a in sorted(alerts.items(), key=lambda kv: kv[1]["pending"] or now):
        pending, firing = a["pending"], a["firing"]
        end = a["resolved"] or now
        if pending is not None:
            fig.add_bar(
                y=[name],
                x=[(firing or end) - pending],
                base=[pending - start],
                orientation="h",
                marker_color=BAR_COLOURS["pending"],
                name="pending",
                showlegend=False,
                hovertext="pending",
            )
        if firing is not None:
            fig.add_bar(
                y=[name],
                x=[end - firing],
                base=[firing - start],
                orientation="h",
                marker_color=BAR_COLOURS["firing"],
                name="firing",
                showlegend=False,
                hovertext="firing",
            )
    for page in journal["timeline"]["pages"]:
        trigger = page["kind"] == "trigger"
        fig.add_scatter(
            x=[page["at"] - start],
            y=[page["alertname"]],
            mode="markers",
            marker={
                "symbol": "triangle-down" if trigger else "triangle-up",
                "size": 13,
                "color": "#0a3069" if trigger else PASS,  # dark: drawn over a red bar
            },
            name="page" if trigger else "page resolved",
            showlegend=False,
        )
    fig.update_layout(barmode="overlay", yaxis_title="")
    shade_fault(fig, journal, start)
    return fig


def checks_table(journal: dict[str, Any]) -> str:
    rows = []
    for c in journal["checks"]:
        colour = {"Pass": PASS, "Fail": FAIL}.get(c["verdict"], NODATA)
        rows.append(
            [
                html.escape(c["name"]),
                c["mode"],
                str(c["weight"]),
                html.escape(json.dumps(c["measured"], default=str)),
                html.escape(c["target"]),
                f'<b style="color:{colour}">{c["verdict"]}</b>',
            ]
        )
    return table(["check", "mode", "weight", "measured", "target", "verdict"], rows)


def timeline_table(journal: dict[str, Any]) -> str:
    fault = journal["window"]["fault_started"] or 0.0
    keys = ("pending", "firing", "alertmanager", "paged", "slack", "resolved", "page_resolved")
    rows = []
    for name, a in sorted(journal["timeline"]["alerts"].items()):
        if a["before_the_drill"]:
            continue
        cells = ["-" if a[k] is None else f"{a[k] - fault:+.1f}" for k in keys]
        rows.append([html.escape(name), html.escape(str(a["priority"])), *cells])
    return table(["alert", "priority", *[f"{k} (s from fault)" for k in keys]], rows)


def failures_table(journal: dict[str, Any]) -> str:
    traffic = journal.get("traffic")
    if not traffic:
        return "<p>No background traffic.</p>"
    rows = []
    for where in ("inside", "outside"):
        w = traffic[where]
        failed = ", ".join(f"{html.escape(k)}: {v}" for k, v in w["failed_by_request"].items())
        availability = (
            "-" if w["availability_percent"] is None else f"{w['availability_percent']:.3f} %"
        )
        p95 = "-" if w["p95_ms"] is None else f"{w['p95_ms']:.0f} ms"
        rows.append(
            [
                f"{where} the fault window",
                str(w["requests"]),
                str(w["failures"]),
                availability,
                p95,
                failed or "none",
            ]
        )
    return table(
        ["when", "answers", "failed", "availability", "p95", "failed by request and status"], rows
    )


def render(journal: dict[str, Any]) -> str:
    start = (journal.get("traffic") or {}).get("started_at") or journal["started"]
    now = journal["ended"] or journal["started"]
    figures = [alert_figure(journal, start, now), *traffic_figures(journal, start)]
    colour = {"Pass": PASS, "Fail": FAIL}.get(journal["verdict"], NODATA)
    failed = journal.get("failed_step")
    note = (
        f'<div class="bad"><b>Stopped at {html.escape(failed["phase"])}</b>: '
        f"{html.escape(failed['error'])}</div>"
        if failed
        else ""
    )
    collateral = journal["collateral"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>drill {html.escape(journal["drill"])}</title>
<style>{CSS}</style><script>{get_plotlyjs()}</script></head>
<body><header><h1>drill {html.escape(journal["drill"])}
<span class="verdict" style="background:{colour}">{journal["verdict"]}</span></h1>
<div class="sub">{html.escape(journal["title"])} · {html.escape(journal["failure_point"])} ·
status {journal["status"]} · resilience score {fmt(journal["score"])} %</div>
</header><main>{note}
<div class="grid">{"".join(embed(f) for f in figures)}</div>
<h2>Verdicts</h2>{checks_table(journal)}
<h2>Alert timeline</h2>{timeline_table(journal)}
<h2>Background traffic</h2>{failures_table(journal)}
<h2>Other alerts</h2><p>fired: {html.escape(", ".join(collateral["fired"]) or "none")};
paged: {html.escape(", ".join(collateral["paged"]) or "none")}; unexpected pages:
{html.escape(", ".join(collateral["paged_unexpected"]) or "none")}</p>
</main><footer>Made by <code>{html.escape(journal["command"] or "soundcheck drill")}</code> ·
journal.json beside this page (docs/drill-journal.md)</footer>
<script>window.addEventListener("load", () =>
  document.querySelectorAll(".js-plotly-plot").forEach((p) => Plotly.Plots.resize(p)));</script>
</body></html>
"""


def write_report(journal: dict[str, Any], folder: Path) -> Path:
    path = folder / "report.html"
    path.write_text(render(journal))
    return path
