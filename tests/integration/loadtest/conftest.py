"""Load runs at small scale against the real stack, each made once per module through the real
command line (`soundcheck load ...` in its own process, as a user runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from soundcheck import REPO_ROOT
from soundcheck.stack.stack import Stack

SMALL = ("--scale", "0.05")  # S1-S3 last about 10-20 s; S4 is shortened further
RUN_TIMEOUT_SECONDS = 600  # a few seconds of load, then MariaDB and Prometheus are asked


@dataclass
class LoadResult:
    code: int
    stdout: str
    stderr: str
    folder: Path | None

    @property
    def summary(self) -> dict[str, Any]:
        assert self.folder is not None, f"no run folder:\n{self.stdout}\n{self.stderr}"
        summary: dict[str, Any] = json.loads((self.folder / "summary.json").read_text())
        return summary


def soundcheck_load(results: Path, *args: str) -> LoadResult:
    before = set(results.iterdir()) if results.exists() else set()
    into = ["--results", str(results)] if args[0] in ("run", "capacity") else []
    done = subprocess.run(
        [sys.executable, "-m", "soundcheck.cli", "load", *args, *into],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    made = sorted(set(results.iterdir()) - before) if results.exists() else []
    return LoadResult(done.returncode, done.stdout, done.stderr, made[-1] if made else None)


@pytest.fixture(scope="session")
def load_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("load-results")


@pytest.fixture(scope="session")
def run_load(stack: Stack, load_results: Path) -> Callable[..., LoadResult]:
    return lambda *args: soundcheck_load(load_results, *args)


def assert_exit_matches_verdict(result: LoadResult) -> None:
    """k6's rule: the run exits non-zero exactly when a threshold failed."""
    summary = result.summary
    assert result.code == (0 if summary["passed"] else 1), result.stderr
    for failed in (t for t in summary["thresholds"] if t["status"] == "failed"):
        assert failed["name"] in result.stderr


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
