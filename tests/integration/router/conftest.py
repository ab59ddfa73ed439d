"""The parts the router's integration tests need (the sandbox, Prometheus for graphs), and the
router's settings pointed at them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from router.settings import RouterSettings
from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack
from tests.support.harness import parts_up, router_environment

NEEDED = ["prometheus", "alertmanager", "sandbox", "router"]


@pytest.fixture(scope="session")
def router_parts(settings: StackSettings) -> Iterator[Stack]:
    with parts_up(settings, NEEDED) as stack:
        yield stack


@pytest.fixture
def sandbox(router_parts: Stack, settings: StackSettings) -> SandboxClient:
    client = SandboxClient(router_parts.part("sandbox").address())
    client.reset()
    return client


@pytest.fixture
def router_settings(
    settings: StackSettings, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> RouterSettings:
    for name, value in router_environment(settings, 1, tmp_path, "t").items():
        monkeypatch.setenv(name, value)
    return RouterSettings()


@pytest.fixture
def mariadb_url(settings: StackSettings) -> Iterator[str]:
    """A fresh database on the real MariaDB for one router store, dropped afterwards."""
    with parts_up(settings, ["mariadb"]):
        name = f"{settings.mariadb_database}_router_{uuid.uuid4().hex[:6]}"
        password = settings.mariadb_password.get_secret_value()
        connection = app_connection(settings)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        yield (
            f"mysql+pymysql://{settings.mariadb_user}:{password}@{settings.host}:"
            f"{settings.mariadb_port}/{name}?charset=utf8mb4"
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE {name}")
        connection.close()
