"""Hooks into `instrumentation/` (the one place that knows OTel, Prometheus and logging)."""

from __future__ import annotations

import importlib
import logging

from flask import Flask


def setup_process(service_name: str) -> None:
    """Logging (and tracing) for one process; falls back to plain stderr logging."""
    try:
        logs = importlib.import_module("instrumentation.logs")
    except ImportError:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
        return
    logs.configure_logging(service_name)


def instrument_app(app: Flask, service_name: str) -> None:
    try:
        wsgi = importlib.import_module("instrumentation.wsgi")
    except ImportError:
        return
    wsgi.instrument_flask(app, service_name)
