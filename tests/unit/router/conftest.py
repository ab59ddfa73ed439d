"""Fixtures for the router's in-process API tests: settings with a token, Basic credentials and
a runbook, and a TestClient on an app without its worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from router.app import create_app
from router.settings import RouterSettings
from tests.support.router_webhooks import TOKEN


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RouterSettings:
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING", "k" * 32)
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "RedisDown.md").write_text(
        "# RedisDown\n\n<script>x</script> Check `redis-cli ping`.\n"
    )
    return RouterSettings(
        token=TOKEN,
        basic_user="am",
        basic_password="secret",
        database_url=f"sqlite:///{tmp_path / 'router.db'}",
        runbooks_dir=runbooks,
        max_body_bytes=20_000,
    )


@pytest.fixture
def client(settings: RouterSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, start_worker=False, instrumented=False)) as test_client:
        yield test_client
