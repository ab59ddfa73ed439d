"""Fixtures for the alerting tests: the stack's Prometheus and Alertmanager on the current files
(re-rendered, and reloaded only if that changed them: tests/support/config_reload.py)."""

from __future__ import annotations

import pytest

from soundcheck.stack.stack import Stack
from tests.support.config_reload import prepare_and_reload
from tests.support.prometheus_api import PrometheusApi


@pytest.fixture(scope="session")
def prometheus(stack: Stack) -> PrometheusApi:
    return PrometheusApi(prepare_and_reload(stack.part("prometheus")))


@pytest.fixture(scope="session")
def alertmanager_url(stack: Stack) -> str:
    return prepare_and_reload(stack.part("alertmanager"))
