"""The game day's report.html: the plan's §7-1 table first (before → target → measured), plots of
time to page, time to recover and score per drill against their targets, then one row per drill
with its verdict, failed checks and a link to its own report."""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from loadtest.report import CSS, fmt, table
from loadtest.report_figures import FAIL, NODATA, PASS, embed, figure

VERDICT_COLOURS = {"Pass": PASS, "Fail": FAIL}


def bar_figure(
    rows: list[dict[str, Any]], key: str, title: str, unit: str, target: float, label: str
) -> go.Figure:
    fig = figure(title, unit, height=300)
    names = [r["drill"] for r in rows]
    values = [r[key] for r in rows]
    colours = [NODATA if v is None else PASS if v <= target else FAIL for v in values]
    fig.add_bar(
        x=names,
        y=[v or 0 for v in values],
        marker_color=colours,
        name=title,
        text=["not seen" if v is None else f"{v:.1f}" for v in values],
    )
    fig.add_hline(
        y=target,
        line={"dash": "dash", "color": "#57606a", "width": 1},
        annotation_text=label,
        annotation_position="top left",
    )
    fig.update_xaxes(title_text="drill")
    return fig


def figures(rows: list[dict[str, Any]]) -> list[go.Figure]:
    detect = bar_figure(
        rows, "paged_after", "Time from the fault to the page", "s", 30.0, "target 30 s"
    )
    detect.add_hline(
        y=20.0,
        line={"dash": "dot", "color": PASS, "width": 1},
        annotation_text="goal 20 s",
        annotation_position="bottom left",
    )
    recover = bar_figure(
        rows, "recovery", "Time from the repair to healthy and resolved", "s", 300.0, "target 5 min"
    )
    score = figure("Resilience score (weighted share of checks passed)", "%", height=300)
    score.add_bar(
        x=[r["drill"] for r in rows],
        y=[r["score"] or 0 for r in rows],
        marker_color=[VERDICT_COLOURS.get(r["verdict"], NODATA) for r in rows],
        name="score",
    )
    score.update_yaxes(range=[0, 100])
    score.update_xaxes(title_text="drill")  # not the time axis `figure` gives every plot
    return [detect, recover, score]


def plan_table(summary: dict[str, Any]) -> str:
    rows = []
    for row in summary["plan"]:
        met = row["met"]
        mark = (
            "-"
            if met is None
            else (
                f'<b style="color:{PASS}">met</b>' if met else f'<b style="color:{FAIL}">missed</b>'
            )
        )
        rows.append(
            [
                html.escape(row["metric"]),
                html.escape(row["before"]),
                html.escape(row["target"]),
                html.escape(row["measured"] or "not measured by these drills"),
                mark,
            ]
        )
    return table(["plan §7-1", "before", "target", "measured", ""], rows)


def drills_table(summary: dict[str, Any]) -> str:
    rows = []
    for r in summary["drills"]:
        colour = VERDICT_COLOURS.get(r["verdict"], NODATA)
        rows.append(
            [
                f'<a href="{html.escape(r["report"])}">{html.escape(r["drill"])}</a>',
                html.escape(r["failure_point"]),
                f'<b style="color:{colour}">{r["verdict"]}</b>',
                fmt(r["score"]),
                html.escape(str(r["expected_alert"] or "-")),
                fmt(r["paged_after"]),
                fmt(r["recovery"]),
                fmt(r["failures_inside"]),
                fmt(r["availability_outside"]),
                fmt(r["lost"]),
                fmt(r["sold_twice"]),
                html.escape(", ".join(r["false_pages"]) or "none"),
                html.escape(", ".join(r["failed_checks"]) or "none"),
            ]
        )
    return table(
        [
            "drill",
            "failure point",
            "verdict",
            "score %",
            "alert",
            "paged s",
            "recovered s",
            "errors in fault",
            "availability outside %",
            "events lost",
            "seats sold twice",
            "false pages",
            "failed checks",
        ],
        rows,
    )


def render_game_day(summary: dict[str, Any]) -> str:
    verdict = "PASSED" if summary["passed"] else "FAILED"
    colour = PASS if summary["passed"] else FAIL
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Soundcheck game day</title>
<style>{CSS}</style><script>{get_plotlyjs()}</script></head>
<body><header><h1>Game day <span class="verdict" style="background:{colour}">{verdict}</span></h1>
<div class="sub">{len(summary["drills"])} drills ·
mean resilience score {fmt(summary["score"])} %</div>
</header><main>
<h2>The plan's promise (§7-1)</h2>{plan_table(summary)}
<div class="grid">{"".join(embed(f) for f in figures(summary["drills"]))}</div>
<h2>Drills</h2>{drills_table(summary)}
</main><footer>Made by <code>{html.escape(summary["command"] or "soundcheck drill all")}</code> ·
gameday.json beside this page; each drill's journal.json beside its report</footer>
<script>window.addEventListener("load", () =>
  document.querySelectorAll(".js-plotly-plot").forEach((p) => Plotly.Plots.resize(p)));</script>
</body></html>
"""
