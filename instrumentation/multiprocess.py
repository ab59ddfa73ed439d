"""The multiprocess metrics directory (gunicorn, the router's two processes), kept free of
prometheus_client imports.

prometheus_client chooses its value store when it is first imported, and writes files into
`PROMETHEUS_MULTIPROC_DIR` as soon as a metric exists; so the directory is prepared here, before
any module that defines metrics is imported in the process.
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
    """Empty the directory the processes write to: values of a previous run must not count.

    The one place that empties it: a service's start (booking's gunicorn master, the router)
    calls this before any of its processes defines a metric.
    """
    directory = Path(path)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return directory


def ensure_multiprocess_dir() -> None:
    """Create the directory if it is set and missing (a metric module calls this at import)."""
    directory = multiprocess_dir()
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)


def mark_process_dead(pid: int) -> None:
    """Drop a dead worker's live gauges (its counters stay: they happened)."""
    directory = multiprocess_dir()
    if directory is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
