"""report.html: one self-contained page (plotly.js embedded from the plotly package, no network),
plots first, every number beside its target, the command that made it at the bottom."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any

from plotly.offline import get_plotlyjs

from loadtest.report_figures import (
    FAIL,
    NODATA,
    PASS,
    capacity_figures,
    client_figures,
    cpu_figure,
    embed,
    flat,
    memory_figure,
    server_figures,
)

STEP_COLUMNS = [
    "offered/s",
    "sent",
    "dropped",
    "answered/s",
    "p95 ms",
    "p99 ms",
    "errors %",
    "held",
]
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f8fa;
color:#1f2328}
header{background:#fff;border-bottom:1px solid #d0d7de;padding:18px 28px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 10px}
.sub{color:#57606a;font-size:14px}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600;
font-size:14px;margin-left:8px;vertical-align:middle}
main{padding:0 28px 28px}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.tile{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;min-width:130px}
.tile .v{font-size:22px;font-weight:600}.tile .t{font-size:12px;color:#57606a}
.tile.fail{border-color:#cf222e}.tile.pass{border-color:#1a7f37}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:6px}
table{border-collapse:collapse;background:#fff;font-size:13px;width:100%}
th,td{border:1px solid #d0d7de;padding:5px 8px;text-align:left}th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:8px;padding:10px 14px;margin:12px 0}
.bad{background:#ffebe9;border:1px solid #cf222e;border-radius:8px;padding:10px 14px;margin:12px 0}
footer{padding:14px 28px;color:#57606a;font-size:13px;border-top:1px solid #d0d7de;background:#fff}
code{background:#eff1f3;padding:2px 5px;border-radius:4px}
"""


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"
    return html.escape(str(value))


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def flat_panels(summary: dict[str, Any]) -> str:
    """Panels that stayed at zero, named in one line instead of drawn as empty plots."""
    panels = summary["server"].get("panels", {})
    names = [p["title"] for k, p in panels.items() if k != "db_pool_size" and flat(p)]
    if not names:
        return ""
    return f'<p class="sub">At 0 (or no data) the whole run: {html.escape("; ".join(names))}.</p>'


def tiles(summary: dict[str, Any]) -> str:
    out = []
    for t in summary.get("thresholds", []):
        css = "pass" if t["status"] == "passed" else "fail" if t["status"] == "failed" else ""
        out.append(
            f'<div class="tile {css}"><div class="v">{fmt(t["value"])} '
            f'<small>{html.escape(t["unit"])}</small></div><div class="t">'
            f"{html.escape(t['label'])} · target {t['op']} {t['target']:g}</div></div>"
        )
    if "capacity" in summary:
        cap = summary["capacity"]
        out.append(
            f'<div class="tile"><div class="v">{fmt(cap["max_rate_held"])} /s</div>'
            '<div class="t">highest arrival rate that held the SLA</div></div>'
        )
    return f'<div class="tiles">{"".join(out)}</div>'


def table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(rows_cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def rows_cell(cell: str) -> str:
    return (
        f'<td class="num">{cell}</td>' if cell[:1].isdigit() or cell == "-" else f"<td>{cell}</td>"
    )


def thresholds_table(summary: dict[str, Any]) -> str:
    rows = []
    for t in summary.get("thresholds", []):
        color = {"passed": PASS, "failed": FAIL}.get(t["status"], NODATA)
        by = f" (by {fmt(t['by'])} {html.escape(t['unit'])})" if t["by"] is not None else ""
        rows.append(
            [
                html.escape(t["label"]),
                html.escape(t["plan"]),
                f"{t['op']} {t['target']:g} {html.escape(t['unit'])}",
                f"{fmt(t['value'])} {html.escape(t['unit'])}",
                f'<b style="color:{color}">{t["status"]}</b>{by}',
            ]
        )
    return table(["threshold", "plan", "target", "measured", "result"], rows)


def sections(summary: dict[str, Any]) -> str:
    server, client = summary["server"], summary["client"]
    parts = [flat_panels(summary)]
    if summary.get("thresholds"):
        parts += ["<h2>Thresholds</h2>", thresholds_table(summary)]
    if "capacity" in summary:
        steps = summary["capacity"]["steps"]
        parts += [
            "<h2>Steps</h2>",
            table(
                STEP_COLUMNS,
                [
                    [
                        fmt(s["rate"]),
                        fmt(s["offered"]),
                        fmt(s["dropped"]),
                        fmt(s["achieved_rps"]),
                        fmt(s["p95_ms"]),
                        fmt(s["p99_ms"]),
                        fmt(s["error_rate_percent"]),
                        "yes" if s["held"] else "<b>no</b>",
                    ]
                    for s in steps
                ],
            ),
        ]
    slo = server.get("slo", [])
    if slo:
        parts += [
            "<h2>SLO burn over the run (the SLO alerts' own SLIs)</h2>",
            table(
                ["SLO", "objective", "error ratio", "burn rate (page at 14.4)", "budget spent"],
                [
                    [
                        html.escape(s["name"]),
                        f"{s['objective_percent']:g} %",
                        fmt(s["error_ratio"]),
                        fmt(s["burn_rate"]),
                        f"{fmt(s['budget_spent_percent'])} % of 30 days",
                    ]
                    for s in slo
                ],
            ),
        ]
    parts += [
        "<h2>Requests</h2>",
        table(
            ["request", "timed", "requests", "errors", "statuses", "p50 ms", "p95 ms", "p99 ms"],
            [
                [
                    html.escape(e["name"]),
                    "yes" if e["measured"] else "no (setup)",
                    fmt(e["requests"]),
                    fmt(e["failures"]),
                    html.escape(json.dumps(e["statuses"])),
                    fmt(e["p50_ms"]),
                    fmt(e["p95_ms"]),
                    fmt(e["p99_ms"]),
                ]
                for e in client["endpoints"]
            ],
        ),
    ]
    alerts = server.get("alerts", [])
    parts.append("<h2>Alerts that fired</h2>")
    parts.append(
        table(
            ["alert", "priority", "firing from", "until"],
            [
                [
                    html.escape(a["alertname"]),
                    html.escape(a["priority"]),
                    "before the run" if a.get("before_the_run") else when(a["first_seen"]),
                    when(a["last_seen"]),
                ]
                for a in alerts
            ],
        )
        if alerts
        else "<p>None: the run paged nobody.</p>"
    )
    if summary.get("checks"):
        parts += [
            "<h2>Checks (asked of MariaDB)</h2>",
            f"<pre>{html.escape(json.dumps(summary['checks'], indent=2))}</pre>",
        ]
    if client.get("error_samples"):
        parts += [
            "<h2>First errors</h2>",
            table(
                ["request", "status", "answer"],
                [
                    [html.escape(e["name"]), str(e["status"]), html.escape(e["error"])]
                    for e in client["error_samples"]
                ],
            ),
        ]
    return "".join(parts)


def headline(summary: dict[str, Any]) -> str:
    run, client = summary["run"], summary["client"]
    saturation = summary["server"].get("saturation") or {}
    first = saturation.get("first")
    bottleneck = (
        f"first to saturate: <b>{html.escape(first['resource'])}</b> "
        f"({html.escape(first['why'])}) {first['at'] - client['started_at']:.0f} s in"
        if first
        else "nothing saturated (no CPU, pool or machine limit was reached)"
    )
    return (
        f"{when(run['started_at'])} · {fmt(run['duration_seconds'])} s · target "
        f"<code>{html.escape(run['target'])}</code> · "
        + (
            f"open-model arrivals, peak {client.get('in_flight_peak', 0)} in flight · "
            if run.get("kind") == "capacity"
            else f"peak {client['users_peak']} users · "
        )
        + f"{fmt(client['rps'])} timed req/s · {bottleneck}"
    )


def render(summary: dict[str, Any]) -> str:
    run = summary["run"]
    passed = summary["passed"]
    verdict = (
        f'<span class="verdict" style="background:{PASS if passed else FAIL}">'
        f"{'PASSED' if passed else 'FAILED'}</span>"
    )
    if "capacity" in summary:
        figures = capacity_figures(summary) + client_figures(summary)[1:]
    else:
        figures = client_figures(summary)
    extra = [cpu_figure(summary), memory_figure(summary)]
    figures += [f for f in extra if f is not None] + server_figures(summary)
    notes = ""
    generator = (summary["server"].get("saturation") or {}).get("warning")
    for warning in [generator, *summary.get("warnings", [])]:
        if warning:
            notes += f'<div class="warn">⚠ {html.escape(warning)}</div>'
    if summary["server"].get("error"):
        notes += f'<div class="warn">⚠ {html.escape(summary["server"]["error"])}</div>'
    if summary.get("failures"):
        items = "".join(f"<li>{html.escape(f)}</li>" for f in summary["failures"])
        notes += f'<div class="bad"><b>Failed</b><ul>{items}</ul></div>'
    title = f"{run['plan_id']} · {run['scenario']}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} load report</title>
<style>{CSS}</style><script>{get_plotlyjs()}</script></head>
<body><header><h1>{html.escape(title)} {verdict}</h1>
<div class="sub">{html.escape(run["title"])}</div><div class="sub">{headline(summary)}</div>
</header><main>{notes}{tiles(summary)}
<div class="grid">{"".join(embed(f) for f in figures)}</div>
{sections(summary)}</main>
<footer>Made by <code>{html.escape(run.get("command") or "soundcheck load")}</code> ·
files beside this one: summary.json, series.csv, endpoints.csv, cpu.csv · run {run["id"]}
</footer>
<script>window.addEventListener("load", () =>
  document.querySelectorAll(".js-plotly-plot").forEach((p) => Plotly.Plots.resize(p)));</script>
</body></html>
"""
