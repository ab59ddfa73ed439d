"""Flask (WSGI, gunicorn) instrumentation: HTTP spans, request metrics and logs, `/metrics`.

    app = Flask(__name__)
    instrument_flask(app, "booking")

Spans come from OpenTelemetry's Flask instrumentation (route templates as span names); the
metrics and the request log line are recorded in `after_request`, inside the request's span, so
the log line carries its trace id.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, g, request
from opentelemetry.instrumentation.flask import FlaskInstrumentor

from instrumentation.http_requests import QUIET_PATHS, record_request
from instrumentation.metrics import render_metrics
from instrumentation.settings import TelemetrySettings, load_settings
from instrumentation.tracing import configure_tracing

_EXCEPTION_KEY = "soundcheck.exception"


def instrument_flask(
    app: Flask, service_name: str | None = None, settings: TelemetrySettings | None = None
) -> Flask:
    """Trace, count, time and log every request of `app`, and serve `/metrics` (all workers).

    With `SOUNDCHECK_INSTRUMENTATION=off` only `/metrics` is added (the benchmark's baseline).
    """
    settings = settings or load_settings()
    if "metrics" not in app.view_functions:
        app.add_url_rule("/metrics", "metrics", _metrics_view, methods=["GET"])
    if not settings.enabled:
        return app
    provider = configure_tracing(service_name or settings.service_name, settings)
    FlaskInstrumentor().instrument_app(  # type: ignore[no-untyped-call]
        app, tracer_provider=provider, excluded_urls=",".join(sorted(QUIET_PATHS))
    )
    app.before_request(_start_timer)
    app.after_request(_record)

    from flask import got_request_exception

    got_request_exception.connect(_remember_exception, app, weak=False)
    return app


def _metrics_view() -> Response:
    body, content_type = render_metrics(accept=request.headers.get("Accept", ""))
    return Response(body, mimetype=None, content_type=content_type)


def _start_timer() -> None:
    g.soundcheck_started = time.perf_counter()


def _remember_exception(sender: Any, exception: BaseException, **_: Any) -> None:
    request.environ[_EXCEPTION_KEY] = exception


def _record(response: Response) -> Response:
    started = g.get("soundcheck_started")
    if started is None:  # a before_request hook ahead of ours answered: still count it
        started = time.perf_counter()
    rule = request.url_rule
    record_request(
        request.method,
        rule.rule if rule is not None else None,
        request.path,
        response.status_code,
        time.perf_counter() - started,
        request.environ.get(_EXCEPTION_KEY),
    )
    return response
