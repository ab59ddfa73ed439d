"""Connects this service to `instrumentation/`: logs and tracing for each process, request spans
and `/metrics` for the Flask app, SQL spans for the engine. The metrics themselves are in
`metrics.py`."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine

from booking_app.metrics import BOOKING_METRICS
from instrumentation.logs import configure_logging
from instrumentation.tracing import configure_tracing, instrument_sqlalchemy
from instrumentation.wsgi import instrument_flask


def setup_process(service_name: str) -> None:
    """ECS JSON logs (stdout and the forward receiver) and tracing for one process."""
    configure_logging(service_name)
    configure_tracing(service_name)


def instrument_app(app: Flask, service_name: str) -> None:
    instrument_flask(app, service_name, service_metrics=BOOKING_METRICS)


def instrument_engine(engine: Engine) -> None:
    instrument_sqlalchemy(engine)
