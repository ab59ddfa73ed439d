"""Fixtures for the alerting tests: the stack's Prometheus and Alertmanager on the current files.

The session stack may reuse a Prometheus or Alertmanager started before the rules or the
Alertmanager template changed, so both are re-rendered and hot-reloaded (`/-/reload`) first.
"""

from __future__ import annotations

import httpx
import pytest

from soundcheck.stack.stack import Stack
from tests.support.prometheus_api import PrometheusApi


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
