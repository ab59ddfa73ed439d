"""An open-model report draws the arrivals in flight; a closed-model one its virtual users.

(The generator's own count is checked by a capacity run: tests/integration/loadtest.)
"""

from __future__ import annotations

from typing import Any

from loadtest.report_figures import client_figures


def summary(client: dict[str, Any]) -> dict[str, Any]:
    series = [
        {"t": 100 + i, "users": 1, "in_flight": n, "requests": 10, "failures": 0,
         "p50_ms": 5.0, "p95_ms": 9.0, "p99_ms": 12.0}
        for i, n in enumerate((0, 4, 7, 2))
    ]  # fmt: skip
    return {"client": {"started_at": 100.0, "series": series, **client}, "server": {}}


def test_an_open_model_report_draws_arrivals_in_flight_not_its_one_user() -> None:
    panel = client_figures(summary({"in_flight_peak": 7}))[2]
    assert panel.layout.title.text == "Arrivals waiting for an answer"
    assert list(panel.data[0].y) == [0, 4, 7, 2]


def test_a_closed_model_report_draws_its_virtual_users() -> None:
    panel = client_figures(summary({}))[2]
    assert panel.layout.title.text == "Virtual users"
    assert list(panel.data[0].y) == [1, 1, 1, 1]
