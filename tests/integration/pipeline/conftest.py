"""Fixtures for the pipeline against the real stack: addresses, a unique service per test."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
from rich.console import Console

from soundcheck.progress import PlainProgress
from soundcheck.settings import StackSettings, TestRunSettings
from soundcheck.stack.stack import Stack

PIPELINE_PARTS = ["elasticsearch", "pipeline"]


@pytest.fixture(scope="session")
def stack(settings: StackSettings) -> Iterator[Stack]:
    """The parts the pipeline needs (Elasticsearch and the pipeline), through the Stack API.

    Narrower than the session-wide stack so these tests depend on nothing else; parts already
    running (e.g. started by the whole-stack fixture) are reused and left running.
    """
    keep = TestRunSettings().keep_stack
    progress = PlainProgress(Console(file=sys.stderr))
    with Stack(settings).parts_up(PIPELINE_PARTS, progress, keep) as stack:
        yield stack


@pytest.fixture
def es(settings: StackSettings, stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"http://{settings.host}:{settings.elasticsearch_port}", timeout=30
    ) as client:
        yield client


@pytest.fixture
def service() -> str:
    """A service name no other test (or run) uses, so its indices hold only this test's data."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def forward_address(settings: StackSettings, stack: Stack) -> tuple[str, int]:
    return settings.host, settings.pipeline_forward_port


@pytest.fixture
def pipeline_url(settings: StackSettings, stack: Stack) -> str:
    return f"http://{settings.host}:{settings.pipeline_otlp_port}"
