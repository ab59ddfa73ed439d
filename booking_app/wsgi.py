"""The WSGI entry point gunicorn loads: `booking_app.wsgi:app`."""

from __future__ import annotations

from booking_app.instrument import instrument_app, setup_process
from booking_app.web import create_app

SERVICE_NAME = "booking"

setup_process(SERVICE_NAME)
app = create_app()
instrument_app(app, SERVICE_NAME)
