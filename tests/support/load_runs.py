"""`soundcheck load` as a user runs it, in its own process, and what a run left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from soundcheck import REPO_ROOT

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


def assert_exit_matches_verdict(result: LoadResult) -> None:
    """k6's rule: the run exits non-zero exactly when a threshold failed."""
    summary = result.summary
    assert result.code == (0 if summary["passed"] else 1), result.stderr
    for failed in (t for t in summary["thresholds"] if t["status"] == "failed"):
        assert failed["name"] in result.stderr
