"""The WSGI entry point gunicorn loads: `booking_app.wsgi:app` (POST /queue/token answered in
front of the Flask app, `token_route.py`)."""

from __future__ import annotations

from booking_app import token_route
from booking_app.instrument import instrument_app, setup_process
from booking_app.web import create_app

SERVICE_NAME = "booking"

setup_process(SERVICE_NAME)
flask_app = create_app()
instrument_app(flask_app, SERVICE_NAME)
app = token_route.in_front_of(flask_app, SERVICE_NAME)
