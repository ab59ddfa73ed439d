"""Fixtures for the alerting tests: the stack's Prometheus and Alertmanager on the current files.

The session stack may reuse a Prometheus or Alertmanager started before the rules or the
Alertmanager template changed, so both are re-rendered and hot-reloaded (`/-/reload`) first.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from soundcheck.stack.stack import Stack


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


def reload(stack: Stack, name: str) -> str:
    part = stack.part(name)
    part.prepare()  # re-render the config from the current template
    answer = httpx.post(f"{part.address()}/-/reload", timeout=30)
    assert answer.status_code == 200, f"{name} refused its reload: {answer.text}"
    return part.address()


@pytest.fixture(scope="session")
def prometheus(stack: Stack) -> PrometheusApi:
    return PrometheusApi(reload(stack, "prometheus"))


@pytest.fixture(scope="session")
def alertmanager_url(stack: Stack) -> str:
    return reload(stack, "alertmanager")
