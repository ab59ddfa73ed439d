"""The delivery worker in a process of its own, at a lower CPU priority than the webhook.

Deliveries are CPU work (four client libraries, Block Kit, graphs). In the webhook's process they
would hold the GIL while Alertmanager waits for its answer; apart, the kernel gives the webhook
the CPU first and the worker the rest. The two share the store (for SQLite, through the writer
gate in `router.store`) and a pipe: a byte on it means "new work", its end means "the router has
gone" (even after a SIGKILL), and the worker then exits at once too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading

from router.settings import RouterSettings

log = logging.getLogger(__name__)
WAKE_FD_ENV = "SOUNDCHECK_ROUTER_WAKE_FD"


class DeliveryProcess:
    """The parent's handle: start, nudge, check and stop `python -m router --deliver`."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self._wake: int | None = None

    def start(self) -> None:
        read_end, self._wake = os.pipe()
        os.set_blocking(self._wake, False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "router", "--deliver"],
            pass_fds=(read_end,),
            env={**os.environ, WAKE_FD_ENV: str(read_end)},
        )
        os.close(read_end)

    def nudge(self) -> None:
        """New deliveries are planned; a full pipe already says so."""
        if self._wake is None:
            return
        with contextlib.suppress(BlockingIOError):
            os.write(self._wake, b"!")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self._wake is not None:
            os.close(self._wake)
            self._wake = None


def serve_deliveries(settings: RouterSettings) -> int:
    """The child's main: run the worker until SIGTERM or until the router's end of the pipe
    closes."""
    if settings.wake_fd is None:
        print(
            "error: --deliver is the router's own delivery process; start `python -m router`, "
            "which starts it (or set SOUNDCHECK_ROUTER_WORKER_PROCESS=false for a thread).",
            file=sys.stderr,
        )
        return 2
    os.nice(settings.worker_nice)
    # Imported after lowering the priority: loading them is CPU work the webhook must not wait for.
    from router.runtime_tuning import tune_for_latency
    from router.store import Store
    from router.targets import build_notifiers
    from router.worker import Worker

    wake = settings.wake_fd
    store = Store(settings.database_url)
    # The notifiers (and their client libraries) load here, in the delivery process only.
    worker = Worker(settings, store, build_notifiers(settings))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())

    def listen() -> None:
        while os.read(wake, 4096):
            worker.wake.set()
        # The router died without stopping us: go as abruptly, as one process would have. A
        # delivery under way stays marked in flight for the next router to check, instead of
        # finishing beside that router's own worker.
        log.error(
            "The router process is gone; the delivery process stops",
            extra={"event": "worker.router_gone"},
        )
        os._exit(1)

    threading.Thread(target=listen, name="wake-listener", daemon=True).start()
    tune_for_latency()
    worker.start()
    while not done.wait(1.0):
        pass
    worker.stop()
    store.close()
    return 0
