"""How the router is put together: the webhook process loads no notifier library, the target
registry is the one list every part reads, and only the webhook counts as a webhook."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from router.app import create_app
from router.metrics import REGISTRY
from router.routes import Parts, parts_of
from router.routing import PriorityRoute
from router.settings import RouterSettings
from router.targets import TARGETS, build_notifiers
from sandbox.state import TARGETS as SANDBOX_TARGETS
from sandbox.state import SandboxState
from tests.support.router_webhooks import TOKEN

# What only delivering needs: the client libraries and the notifier modules that use them.
DELIVERY_ONLY = (
    "jira",
    "slack_sdk",
    "pagerduty",
    "httpx",
    "httpx2",
    "matplotlib",
    "router.graph",
    "router.notifiers.pagerduty",
    "router.notifiers.slack",
    "router.notifiers.jira",
    "router.notifiers.email",
)


@pytest.fixture
def answering_client(settings: RouterSettings) -> Iterator[TestClient]:
    app = create_app(settings, start_worker=False, instrumented=False)
    with TestClient(app, raise_server_exceptions=False) as test_client:  # a 500 is an answer
        yield test_client


def webhooks_counted() -> float:
    return sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "router_webhooks"
        for sample in family.samples
        if sample.name == "router_webhooks_total"
    )


def test_the_webhook_process_loads_no_notifier_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app as `python -m router` builds it (deliveries in a child process), instrumented."""
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING", "k" * 32)
    monkeypatch.setenv("SOUNDCHECK_ROUTER_DATABASE_URL", f"sqlite:///{tmp_path / 'router.db'}")
    script = (
        "import json, sys\n"
        "from router.app import create_app\n"
        "from router.settings import RouterSettings\n"
        "create_app(RouterSettings(token='t'), start_worker=False, worker_process=True)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", script], capture_output=True, text=True, check=True
            ).stdout
        )
    )
    assert "router.routes" in loaded  # the app was built
    assert sorted(loaded.intersection(DELIVERY_ONLY)) == []


def test_the_target_registry_is_the_one_list_of_targets(settings: RouterSettings) -> None:
    notifiers = build_notifiers(settings)
    assert list(PriorityRoute.model_fields) == list(TARGETS)  # what routing.yml may name
    assert list(notifiers) == list(TARGETS)
    assert all(notifier.target == name for name, notifier in notifiers.items())
    assert tuple(TARGETS) == SANDBOX_TARGETS
    assert list(SandboxState(keep=1).received) == list(TARGETS)
    for target in TARGETS.values():  # each names where its messages go by a field it has
        assert target.destination_field in target.route.model_fields


def test_a_failing_metrics_scrape_is_not_counted_as_a_webhook(
    answering_client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A truncated file in the multiprocess directory makes the exposition fail."""
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_1.db").write_bytes(b"xxxx")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics))
    before = webhooks_counted()
    assert answering_client.get("/metrics").status_code == 500
    assert webhooks_counted() == before


def test_every_webhook_answer_is_counted_once(answering_client: TestClient) -> None:
    before = webhooks_counted()
    assert answering_client.post("/alerts", json={}).status_code == 401  # refused before the body
    authorised = {"Authorization": f"Bearer {TOKEN}"}
    assert answering_client.post("/alerts", content=b"{", headers=authorised).status_code == 422
    assert answering_client.get("/readyz").status_code == 200
    assert webhooks_counted() == before + 2


def test_readiness_fails_when_a_route_names_a_secret_that_is_not_set(
    answering_client: TestClient, settings: RouterSettings
) -> None:
    """The routing table pages PagerDuty `booking`; without its routing key every page fails.
    (The start refuses such a table, so the parts the routes get are swapped for the test.)"""
    app: Any = answering_client.app
    parts: Parts = app.state.parts
    unset = settings.model_copy(update={"pagerduty_keys": {}})
    app.dependency_overrides[parts_of] = lambda: replace(parts, settings=unset)
    answer = answering_client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["ready"] is False
    assert "SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING" in answer.json()["checks"]["routing_table"]
