"""Load runs at small scale against the real stack, each made once per module through the real
command line (`soundcheck load ...` in its own process, as a user runs it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from soundcheck.stack.stack import Stack
from tests.support.load_runs import LoadResult, soundcheck_load

SMALL = ("--scale", "0.05")  # S1-S3 last about 10-20 s; S4 is shortened further


@pytest.fixture(scope="session")
def load_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("load-results")


@pytest.fixture(scope="session")
def run_load(stack: Stack, load_results: Path) -> Callable[..., LoadResult]:
    return lambda *args: soundcheck_load(load_results, *args)


@pytest.fixture(scope="session")
def token_spike(run_load: Callable[..., LoadResult]) -> LoadResult:
    return run_load("run", "token-spike", *SMALL, "--users", "0.01")


@pytest.fixture(scope="session")
def reservation_stress(run_load: Callable[..., LoadResult]) -> LoadResult:
    return run_load("run", "reservation-stress", *SMALL, "--users", "0.05")


@pytest.fixture(scope="session")
def payment_soak(run_load: Callable[..., LoadResult]) -> LoadResult:
    return run_load("run", "payment-soak", *SMALL, "--users", "0.06", "--think", "1")


@pytest.fixture(scope="session")
def concert_read(run_load: Callable[..., LoadResult]) -> LoadResult:
    return run_load("run", "concert-read", "--scale", "0.008", "--users", "0.02")
