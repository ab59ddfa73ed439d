"""The multiprocess metrics directory (gunicorn), kept free of prometheus_client imports.

prometheus_client chooses its value store when it is first imported, and writes files into
`PROMETHEUS_MULTIPROC_DIR` as soon as a metric exists; so the directory is prepared here, before
`instrumentation.metrics` is imported anywhere in the process.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower())
    return Path(value) if value else None


def prepare_multiprocess_dir(path: str | os.PathLike[str]) -> Path:
    """Empty the directory the workers write to: values of a previous run must not count."""
    directory = Path(path)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return directory


def mark_process_dead(pid: int) -> None:
    """Drop a dead worker's live gauges (its counters stay: they happened)."""
    directory = multiprocess_dir()
    if directory is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
