"""POST /queue/token answered in front of Flask, every other request handed to the Flask app.

A ticket opening sends this request more than any other (plan scenario 1), and Flask's request
cycle (request context, URL matching, response object, JSON) cost it more CPU than the
statements' own Python (docs/PERFORMANCE.md, "Goal 3 on CPU"). This bare WSGI route keeps what
the API promises for it: the body rules and sentences of `validation.TokenRequest` (the same
model, so the same 400s), 413 above the body limit, the same 409/503/500 answers
(`problems.py`), and with instrumentation on the same SERVER span, request metrics and log line
as a Flask route (`instrumentation.wsgi.instrument_wsgi_route`). The Flask route stays for the
OpenAPI document, which reads the operation from the app's URL map.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from sqlalchemy import exc as sa_exc

from booking_app import body_limit, validation, waiting_queue
from booking_app.errors import ApiError
from booking_app.problems import (
    database_problem,
    json_bytes,
    problem_answer,
    unexpected_problem,
)
from booking_app.services import services
from booking_app.settings import load_settings
from instrumentation.settings import TelemetrySettings
from instrumentation.wsgi import Answer, instrument_wsgi_route

ROUTE = "/queue/token"
METHOD = "POST"
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


def issue_token_answer(environ: dict[str, Any]) -> Answer:
    """The token route's answer to one request; every failure is an answer, never raised."""
    try:
        data = body_limit.read_body(environ, load_settings().max_body_bytes)
        body = validation.parse(validation.TokenRequest, validation.json_object_of(data))
        view = waiting_queue.issue_token(services(), body.user_id)
    except ApiError as error:
        return problem_answer(error)
    except sa_exc.OperationalError as error:
        return problem_answer(database_problem(error))
    except Exception as error:  # the API's 500 sentence, logged in the request's trace
        return problem_answer(unexpected_problem(error))
    answer = json_bytes(view.as_json())
    return 201, [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))], answer


def in_front_of(
    app: WsgiApp, service_name: str | None = None, settings: TelemetrySettings | None = None
) -> WsgiApp:
    """A WSGI app answering POST /queue/token itself and handing everything else to `app`."""
    answer = instrument_wsgi_route(METHOD, ROUTE, issue_token_answer, service_name, settings)

    def token_route_then_app(
        environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != ROUTE or environ.get("REQUEST_METHOD") != METHOD:
            return app(environ, start_response)
        status, headers, body = answer(environ)
        start_response(_STATUS_LINES[status], headers)
        return [body]

    return token_route_then_app
