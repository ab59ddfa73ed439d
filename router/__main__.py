"""`python -m router`: check the routing table, then serve the webhook; the delivery worker runs
in a child process (`python -m router --deliver`, see `router.delivery_process`)."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import tempfile
from pathlib import Path

from instrumentation.multiprocess import MULTIPROC_ENV, prepare_multiprocess_dir
from router.settings import RouterSettings, load_settings


def configure_logging(service: str) -> None:
    """Structured logs from `instrumentation/` when present; plain lines otherwise."""
    try:
        module = importlib.import_module("instrumentation.logs")
    except ImportError:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        return
    module.configure_logging(service)


def shared_metrics_dir(settings: RouterSettings) -> Path:
    """Where both processes keep their metric values: beside a SQLite store, else a temp dir.
    Emptied at each start: values of an earlier run must not count."""
    if settings.database_url.startswith("sqlite:///"):
        directory = Path(settings.database_url.removeprefix("sqlite:///")).parent / "metrics"
    else:
        directory = Path(tempfile.gettempdir()) / f"soundcheck-router-{settings.port}-metrics"
    return prepare_multiprocess_dir(directory)


def main(argv: list[str]) -> int:
    settings = load_settings()
    if "--deliver" in argv:
        configure_logging("router")
        from router.delivery_process import serve_deliveries

        return serve_deliveries(settings)
    if settings.bearer_token() is None and not settings.basic_user:
        print(
            "error: the router has no credentials to check; set SOUNDCHECK_ROUTER_TOKEN or "
            "SOUNDCHECK_ROUTER_TOKEN_FILE (or SOUNDCHECK_ROUTER_BASIC_USER and _PASSWORD).",
            file=sys.stderr,
        )
        return 2
    if settings.worker_process:  # before any metric is defined (they read it then)
        os.environ[MULTIPROC_ENV] = str(shared_metrics_dir(settings))
    configure_logging("router")
    import uvicorn

    from router.app import create_app
    from router.routing import RoutingError
    from router.runtime_tuning import tune_for_latency

    try:
        app = create_app(settings, worker_process=settings.worker_process)
    except RoutingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    tune_for_latency()
    # log_config=None: uvicorn's own dictConfig closes every handler installed before it (the
    # log shipper's too) and leaves them attached, so each record was dropped, never shipped.
    # Without it, uvicorn's loggers propagate to ours.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level="warning",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
