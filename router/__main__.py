"""`python -m router`: check the routing table, then serve the webhook and run the worker."""

from __future__ import annotations

import importlib
import logging
import sys

import uvicorn

from router.app import create_app
from router.routing import RoutingError
from router.settings import load_settings


def configure_logging() -> None:
    """Structured logs from `instrumentation/` when present; plain lines otherwise."""
    try:
        module = importlib.import_module("instrumentation.logs")
    except ImportError:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        return
    module.configure_logging("router")


def main() -> int:
    configure_logging()
    settings = load_settings()
    if settings.bearer_token() is None and not settings.basic_user:
        print(
            "error: the router has no credentials to check; set SOUNDCHECK_ROUTER_TOKEN or "
            "SOUNDCHECK_ROUTER_TOKEN_FILE (or SOUNDCHECK_ROUTER_BASIC_USER and _PASSWORD).",
            file=sys.stderr,
        )
        return 2
    try:
        app = create_app(settings)
    except RoutingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
