"""What a failed request answers, whoever serves it (the Flask app's error handlers in `web.py`,
the bare token route in `token_route.py`): the `ApiError` an exception means for the client,
logged once here, and its JSON body `{"error": code, "message": sentence}`."""

from __future__ import annotations

import json
import logging

from sqlalchemy import exc as sa_exc

from booking_app import metrics
from booking_app.db import driver_error_code
from booking_app.errors import ApiError, RowsLocked, Unavailable
from booking_app.settings import load_settings

log = logging.getLogger("booking_app.web")
LOCK_WAIT_TIMEOUT = 1205  # MariaDB ER_LOCK_WAIT_TIMEOUT


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"

    def __init__(self) -> None:
        super().__init__("The database is not reachable right now. Retry in a moment.")


class InternalError(ApiError):
    status = 500
    code = "internal_error"

    def __init__(self) -> None:
        super().__init__("Something went wrong on our side. It is logged; retry later.")


def database_problem(error: sa_exc.OperationalError) -> ApiError:
    code = driver_error_code(error)
    if code == LOCK_WAIT_TIMEOUT:
        metrics.db_lock_wait_timeout()
        log.error(
            "row lock wait timed out",
            extra={"event": "database.lock_wait_timeout", "error.type": type(error.orig).__name__},
        )
        return RowsLocked(load_settings().lock_wait_timeout_seconds)
    log.error(
        "database unavailable",
        extra={
            "event": "database.unavailable",
            "error.type": type(error.orig).__name__,
            # The driver's error number (1213 deadlock, 2013 connection lost...): without it a
            # deadlock under load read the same as a dead server (CI, 2026-12-01).
            "error.code": "" if code is None else str(code),
        },
    )
    return DatabaseUnavailable()


def unexpected_problem(error: Exception) -> ApiError:
    log.error("unhandled error", exc_info=error, extra={"event": "http.request.failed"})
    return InternalError()


def problem_body(code: str, message: str) -> dict[str, str]:
    return {"error": code, "message": message}


def problem_answer(error: ApiError) -> tuple[int, list[tuple[str, str]], bytes]:
    """`error` as a bare WSGI route answers it, byte for byte what Flask's `jsonify` writes."""
    body = json_bytes(problem_body(error.code, error.message))
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if error.status == 503:
        headers.append(("Retry-After", "1"))
    return error.status, headers, body


def json_bytes(value: object) -> bytes:
    """As Flask's `jsonify` in production: compact, ASCII, keys in order, a final newline."""
    return (json.dumps(value, separators=(",", ":")) + "\n").encode()
