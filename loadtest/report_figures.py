"""The report's plots (plotly): client latency, throughput and users, CPU and memory per process
group, the server's panels and the capacity steps, each marked with the alerts that fired.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

PASS, FAIL, NODATA = "#1a7f37", "#cf222e", "#6e7781"
PALETTE = ("#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#57606a", "#0a3069")


def figure(title: str, y_title: str, height: int = 320) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        template="plotly_white",
        height=height,
        margin={"l": 56, "r": 16, "t": 44, "b": 40},
        legend={"orientation": "h", "y": -0.22},
        xaxis_title="seconds into the run",
        yaxis_title=y_title,
        colorway=list(PALETTE),
    )
    return fig


def mark_alerts(fig: go.Figure, alerts: list[dict[str, Any]], start: float) -> None:
    """The alerts that fired, as vertical markers where they started firing."""
    for alert in alerts:
        if alert.get("before_the_run"):
            continue  # listed in the table; a marker at 0 s would say it started with the load
        x = alert["first_seen"] - start
        fig.add_vline(x=x, line={"color": FAIL, "dash": "dot", "width": 1})
        fig.add_annotation(
            x=x,
            y=1,
            yref="paper",
            text=alert["alertname"],
            showarrow=False,
            font={"size": 10, "color": FAIL},
            textangle=-90,
            xanchor="right",
            yanchor="top",
        )


def client_figures(summary: dict[str, Any]) -> list[go.Figure]:
    client, start = summary["client"], summary["client"]["started_at"]
    alerts = summary["server"].get("alerts", [])
    series = client["series"]
    x = [p["t"] - start for p in series]
    targets = {t["name"]: t["target"] for t in summary.get("thresholds", [])}
    latency = figure("Latency of the timed requests (per second)", "ms")
    for key, name in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
        latency.add_scatter(x=x, y=[p[key] for p in series], name=name, mode="lines")
    for key, label in (("p95_ms", "p95 target"), ("p99_ms", "p99 target")):
        if key in targets:
            latency.add_hline(
                y=targets[key],
                line={"dash": "dash", "color": "#57606a", "width": 1},
                annotation_text=f"{label} {targets[key]:g} ms",
                annotation_position="top left",
            )
    throughput = figure("Throughput and errors", "requests/s")
    throughput.add_scatter(x=x, y=[p["requests"] for p in series], name="requests/s", mode="lines")
    throughput.add_bar(x=x, y=[p["failures"] for p in series], name="errors/s", marker_color=FAIL)
    # The open model has one user, its scheduler: what rises with the load there is the
    # arrivals sent and not yet answered.
    open_model = "in_flight_peak" in client
    key, title, name = (
        ("in_flight", "Arrivals waiting for an answer", "in flight")
        if open_model
        else ("users", "Virtual users", "users")
    )
    users = figure(title, name, height=260)
    users.add_scatter(x=x, y=[p[key] for p in series], name=name, mode="lines", fill="tozeroy")
    for fig in (latency, throughput, users):
        mark_alerts(fig, alerts, start)
    return [latency, throughput, users]


def cpu_figure(summary: dict[str, Any]) -> go.Figure | None:
    cpu = summary["server"].get("cpu")
    if not cpu or not cpu.get("times"):
        return None
    start = summary["client"]["started_at"]
    # From the load's start: the samples before it cover the data being prepared.
    keep = [i for i, t in enumerate(cpu["times"]) if t >= start - 1]
    x = [cpu["times"][i] - start for i in keep]
    fig = figure("CPU per process group (100 % = one core)", "% of a core")
    busiest = sorted(cpu["parts_cpu_percent"].items(), key=lambda kv: -max(kv[1], default=0))
    for name, values in busiest[:8]:
        fig.add_scatter(x=x, y=[values[i] for i in keep], name=name, mode="lines")
    fig.add_scatter(
        x=x,
        y=[cpu["host_cpu_percent"][i] * cpu["cores"] for i in keep],
        name=f"whole machine ({cpu['cores']} cores)",
        mode="lines",
        line={"dash": "dot", "color": "#57606a"},
    )
    mark_alerts(fig, summary["server"].get("alerts", []), start)
    return fig


def flat(panel: dict[str, Any]) -> bool:
    """Nothing happened on this panel: every value 0 (or no data at all)."""
    return all(not v for points in panel["series"].values() for _, v in points)


def memory_figure(summary: dict[str, Any]) -> go.Figure | None:
    """The booking service's resident memory (every process of the part): the soak's "no
    memory growth", drawn."""
    cpu = summary["server"].get("cpu")
    if not cpu or not any(cpu.get("booking_rss_bytes", [])):
        return None
    start = summary["client"]["started_at"]
    points = [
        (t - start, rss / 2**20)
        for t, rss in zip(cpu["times"], cpu["booking_rss_bytes"], strict=False)
        if t >= start - 1 and rss
    ]
    fig = figure("Booking service memory (resident, all its processes)", "MiB", height=260)
    fig.add_scatter(x=[p[0] for p in points], y=[p[1] for p in points], name="RSS", mode="lines")
    fig.update_yaxes(rangemode="tozero")  # from zero: a few MiB of noise must not look like a leak
    return fig


def server_figures(summary: dict[str, Any]) -> list[go.Figure]:
    panels = summary["server"].get("panels", {})
    start = summary["client"]["started_at"]
    figures = []
    for key, panel in panels.items():
        if key == "db_pool_size" or flat(panel):
            continue
        fig = figure(panel["title"], panel["unit"], height=260)
        for name, points in sorted(panel["series"].items()):
            fig.add_scatter(
                x=[t - start for t, _ in points], y=[v for _, v in points], name=name, mode="lines"
            )
        if key == "db_pool":
            for points in panels.get("db_pool_size", {}).get("series", {}).values():
                fig.add_scatter(
                    x=[t - start for t, _ in points],
                    y=[v for _, v in points],
                    name="pool size",
                    mode="lines",
                    line={"dash": "dash"},
                )
        figures.append(fig)
    return figures


def capacity_figures(summary: dict[str, Any]) -> list[go.Figure]:
    steps = summary["capacity"]["steps"]
    rates = [s["rate"] for s in steps]
    achieved = figure("Offered vs answered arrivals per second", "per second")
    achieved.add_scatter(x=rates, y=rates, name="offered", mode="lines+markers")
    achieved.add_scatter(
        x=rates, y=[s["achieved_rps"] for s in steps], name="answered", mode="lines+markers"
    )
    latency = figure("Latency per step", "ms")
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        latency.add_scatter(x=rates, y=[s[key] for s in steps], name=key[:3], mode="lines+markers")
    sla = summary["run"]["sla"]
    latency.add_hline(y=sla["p95_ms"], line={"dash": "dash"}, annotation_text="p95 SLA")
    latency.add_hline(y=sla["p99_ms"], line={"dash": "dot"}, annotation_text="p99 SLA")
    for fig in (achieved, latency):
        fig.update_xaxes(title_text="offered arrivals per second")
    return [achieved, latency]


def embed(fig: go.Figure) -> str:
    body: str = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        default_width="100%",
        default_height=f"{fig.layout.height}px",
        config={"displaylogo": False, "responsive": True},
    )
    return f'<div class="card">{body}</div>'
