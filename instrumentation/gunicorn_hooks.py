"""Gunicorn server hooks that make Prometheus multiprocess metrics correct.

Import them into the service's gunicorn config (`from instrumentation.gunicorn_hooks import
on_starting, child_exit`). `PROMETHEUS_MULTIPROC_DIR` must be in the environment before gunicorn
starts (the stack part sets it), because prometheus_client picks its value store at import.
"""

from __future__ import annotations

from typing import Any

from instrumentation.multiprocess import (
    mark_process_dead,
    multiprocess_dir,
    prepare_multiprocess_dir,
)


def on_starting(server: Any) -> None:
    """Master start: values left by a previous run must not be added to this one's."""
    directory = multiprocess_dir()
    if directory is not None:
        prepare_multiprocess_dir(directory)


def child_exit(server: Any, worker: Any) -> None:
    """A worker died: its live gauges (pool in use, breaker state, ...) stop counting."""
    mark_process_dead(worker.pid)
