"""`python -m booking_app metrics`: every worker's metrics on `BOOKING_METRICS_BIND`.

Started by gunicorn's master beside the background worker (gunicorn_conf.py). It handles no
request, so Prometheus's scrape answers while every request thread is busy: a saturated service
is not mistaken for a stopped one. The app's own `/metrics` stays for tools that read it there.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from types import FrameType

from booking_app.metrics import BOOKING_METRICS
from booking_app.settings import GunicornSettings
from instrumentation.metrics_server import metrics_server


def stop_with_parent(server: ThreadingHTTPServer) -> None:
    """A master killed alone (not its process group) must not leave the port held: the next
    start of the service would find it taken."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1.0)
    server.shutdown()


def serve_booking_metrics() -> None:
    bind = GunicornSettings().metrics_bind
    if not bind:
        sys.exit("BOOKING_METRICS_BIND is empty: set host:port for the metrics server.")
    server = metrics_server(bind, BOOKING_METRICS)

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    threading.Thread(target=stop_with_parent, args=(server,), daemon=True).start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
