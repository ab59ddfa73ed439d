"""The booking service's Flask app: its routes (`routes.py`, `admin_routes.py`), the body limit and
one JSON sentence for every error, never a stack trace."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from booking_app import body_limit
from booking_app.admin_routes import admin
from booking_app.errors import ApiError
from booking_app.problems import database_problem, problem_body, unexpected_problem
from booking_app.routes import api
from booking_app.settings import load_settings


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    response = jsonify(problem_body(code, message))
    if status == 503:
        response.headers["Retry-After"] = "1"
    return response, status


def handle_api_error(error: ApiError) -> tuple[Response, int]:
    return error_response(error.status, error.code, error.message)


def handle_http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    messages = {
        404: "There is no such endpoint. GET /openapi.json lists them.",
        405: "This endpoint does not take that method. GET /openapi.json lists the methods.",
    }
    message = messages.get(status, error.description or "The request was not understood.")
    response, status = error_response(
        status, (error.name or "error").lower().replace(" ", "_"), message
    )
    # What the error itself says in headers stays: a 405 names the methods it takes (`Allow`).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


def handle_database_error(error: sa_exc.OperationalError) -> tuple[Response, int]:
    return handle_api_error(database_problem(error))


def handle_unexpected(error: Exception) -> tuple[Response, int]:
    return handle_api_error(unexpected_problem(error))


class WholeNumberConverter(BaseConverter):
    """`<int:...>` with ASCII digits only: werkzeug's own matches `\\d`, so `/reservations/١٢`
    would be reservation 12."""

    regex = r"[0-9]{1,19}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def create_app() -> Flask:
    app = Flask("booking_app", static_folder=None)
    app.url_map.converters["int"] = WholeNumberConverter
    # Werkzeug's own guard too, for any body read before (or without) the hook below.
    app.config["MAX_CONTENT_LENGTH"] = load_settings().max_body_bytes
    app.before_request(body_limit.refuse_large_body)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.register_blueprint(api)
    app.register_blueprint(admin)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(sa_exc.OperationalError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
    return app
