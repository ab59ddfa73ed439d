"""Prometheus's HTTP API as the alerting tests read it: instant queries, series, any GET."""

from __future__ import annotations

from typing import Any

import httpx


class PrometheusApi:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> dict[str, Any]:
        """The whole API answer (status, data or error) of an instant query."""
        return dict(
            httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10).json()
        )

    def series(self, expr: str) -> list[dict[str, Any]]:
        answer = self.query(expr)
        assert answer["status"] == "success", f"{expr}: {answer.get('error')}"
        return list(answer["data"]["result"])

    def get(self, path: str) -> Any:
        return httpx.get(f"{self.url}{path}", timeout=10).json()
