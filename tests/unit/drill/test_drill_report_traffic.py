"""The drill report's traffic panels show a second whose answers came between empty seconds:
inside a fault, answers arrive in bursts (each after the service's 5 s lock wait), and a lone
point between gaps drew nothing, so a second of 100 % errors read as no error at all."""

from __future__ import annotations

from typing import Any

from soundcheck.drill.report import traffic_figures


def journal_with(series: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "traffic": {"series": series},
        "window": {"fault_started": None},
        "timeline": {"pages": []},
    }


def test_a_lone_second_of_errors_and_its_latency_are_drawn() -> None:
    empty = {"requests": 0, "failures": 0, "p95_ms": None}
    series = [
        {"t": 100, **empty},
        {"t": 101, "requests": 8, "failures": 8, "p95_ms": 9400.0},
        {"t": 102, **empty},
    ]
    _, errors, latency = traffic_figures(journal_with(series), start=100)
    (error_trace,) = errors.data
    (p95_trace,) = latency.data
    assert list(error_trace.y) == [None, 100.0, None]
    assert list(p95_trace.y) == [None, 9400.0, None]
    # Between two gaps only a marker shows the point.
    assert "markers" in error_trace.mode
    assert "markers" in p95_trace.mode
