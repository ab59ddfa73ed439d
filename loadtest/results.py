"""A run's folder: summary.json (schema in docs/loadtest.md), CSV time series, report.html."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from loadtest.report import render


class ResultsError(ValueError):
    """A folder or file that is not a load run's result; the message says what was expected."""


def write(summary: dict[str, Any], folder: Path) -> None:
    summary["files"] = {
        "summary": "summary.json",
        "series": "series.csv",
        "endpoints": "endpoints.csv",
        "cpu": "cpu.csv",
        "report": "report.html",
    }
    client, server = summary["client"], summary["server"]
    in_flight = ["in_flight"] if "in_flight_peak" in client else []
    write_csv(
        folder / "series.csv",
        ["t", "users", *in_flight, "requests", "failures", "p50_ms", "p95_ms", "p99_ms"],
        client["series"],
    )
    write_csv(
        folder / "endpoints.csv",
        ["name", "measured", "requests", "failures", "p50_ms", "p95_ms", "p99_ms", "max_ms"],
        client["endpoints"],
    )
    cpu = server.get("cpu", {})
    names = sorted(cpu.get("parts_cpu_percent", {}))
    rows = []
    for i, t in enumerate(cpu.get("times", [])):
        row = {"t": t, "host_cpu_percent": cpu["host_cpu_percent"][i]}
        row.update({name: cpu["parts_cpu_percent"][name][i] for name in names})
        row["booking_rss_bytes"] = cpu["booking_rss_bytes"][i]
        rows.append(row)
    write_csv(folder / "cpu.csv", ["t", "host_cpu_percent", *names, "booking_rss_bytes"], rows)
    if "capacity" in summary:
        summary["files"]["steps"] = "steps.csv"
        write_csv(
            folder / "steps.csv",
            [
                "rate",
                "offered",
                "dropped",
                "completed",
                "achieved_rps",
                "p50_ms",
                "p95_ms",
                "p99_ms",
                "error_rate_percent",
                "held",
            ],
            summary["capacity"]["steps"],
        )
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    (folder / "report.html").write_text(render(summary))


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def read_summary(path: Path) -> dict[str, Any]:
    """A run's summary from its folder (or the summary.json itself)."""
    file = path / "summary.json" if path.is_dir() else path
    if not file.exists():
        raise ResultsError(f"{path} holds no summary.json: give a run's folder under results/.")
    try:
        summary: dict[str, Any] = json.loads(file.read_text())
    except ValueError as error:
        raise ResultsError(f"{file} is not JSON: {error}") from None
    if not str(summary.get("schema", "")).startswith("soundcheck.load.summary/"):
        raise ResultsError(f"{file} is not a load run's summary (no soundcheck schema).")
    return summary
