"""gunicorn settings for the booking service; the master also runs the background worker.

gthread workers: a request mostly waits (lock retries, MariaDB, Redis), so threads give the
concurrency a contended seat needs without a process per waiting client. The master starts
`python -m booking_app worker` (relay, consumers, timers) and, when `BOOKING_METRICS_BIND` is set,
`python -m booking_app metrics` (every worker's metrics on their own port, where a scrape cannot
queue behind requests) once it is ready, and stops them on exit; all live in the process group
the stack stops as a whole.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from booking_app.settings import GunicornSettings
from instrumentation.collector import keep_startup_objects_out_of_collections

# Multiprocess metrics: wipe at master start, forget a dead worker's live gauges.
from instrumentation.gunicorn_hooks import child_exit, on_starting

_settings = GunicornSettings()
bind = _settings.bind
workers = _settings.workers
# gthread, answering what gunicorn refuses itself (414, 431, malformed) with JSON like the API.
worker_class = "booking_app.gunicorn_worker.JsonErrorThreadWorker"
threads = _settings.threads
timeout = 30
graceful_timeout = 10
keepalive = 5
# gunicorn's defaults, written out because the API documents them (docs/booking.md).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = None
wsgi_app = "booking_app.wsgi:app"
# Several gunicorns run side by side (stacks, tests): none needs the shared control socket.
control_socket_disable = True

__all__ = [
    "child_exit",
    "on_exit",
    "on_starting",
    "post_worker_init",
    "when_ready",
    "worker_exit",
]

_background: list[subprocess.Popen[bytes]] = []


def when_ready(server: Any) -> None:
    if _settings.metrics_bind:
        _background.append(subprocess.Popen([sys.executable, "-m", "booking_app", "metrics"]))
    if _settings.run_worker:
        _background.append(subprocess.Popen([sys.executable, "-m", "booking_app", "worker"]))


def post_worker_init(worker: Any) -> None:
    """The app is loaded in this worker: its start-up objects leave the collector's scans."""
    keep_startup_objects_out_of_collections()


def worker_exit(server: Any, worker: Any) -> None:
    """In the worker, after its last request: its pool's connections close with a goodbye."""
    from booking_app.services import close_services

    close_services()


def on_exit(server: Any) -> None:
    for process in _background:
        process.terminate()
    for process in _background:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
