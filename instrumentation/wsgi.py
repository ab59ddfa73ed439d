"""Flask (WSGI, gunicorn) instrumentation: HTTP spans, request metrics and logs, `/metrics`.

    app = Flask(__name__)
    instrument_flask(app, "booking")

The SERVER span is started in `before_request` (W3C `traceparent` from the request continues a
caller's trace; the route template names the span) and made current, so SQL, Redis and Kafka spans
and every log line of the request belong to it. Metrics and the request log line are recorded in
`after_request`, still inside the span; the span ends in `teardown_request`.

A hot route answered by a bare WSGI callable in front of Flask (the booking service's
`POST /queue/token`) gets the same span, metrics and log line from `instrument_wsgi_route`.

Not OpenTelemetry's Flask instrumentation: it spent ~400 µs of CPU per request on this machine
collecting attributes nobody here reads; this keeps the ones an on-call engineer uses (method,
route, path, status, client address) at a fraction of that (the instrumentation's cost goal:
instrumented >= 0.85 x uninstrumented throughput at 100 % sampling).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask, Response, g, got_request_exception, request
from opentelemetry import context, propagate, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client.metrics import MetricWrapperBase

from instrumentation.http_requests import QUIET_PATHS, record_request
from instrumentation.lean_spans import LeanTracer
from instrumentation.metrics import render_metrics
from instrumentation.settings import TelemetrySettings, load_settings
from instrumentation.tracing import TRACER_NAME, configure_tracing

_EXCEPTION_KEY = "soundcheck.exception"


def instrument_flask(
    app: Flask,
    service_name: str | None = None,
    settings: TelemetrySettings | None = None,
    *,
    service_metrics: Iterable[MetricWrapperBase] = (),
) -> Flask:
    """Trace, count, time and log every request of `app`, and serve `/metrics` (all workers):
    the shared metrics and the service's own (`service_metrics`, shown from the first scrape).

    With `SOUNDCHECK_INSTRUMENTATION=off` only `/metrics` is added (the benchmark's baseline).
    """
    settings = settings or load_settings()
    if "metrics" not in app.view_functions:
        app.add_url_rule("/metrics", "metrics", _metrics_view(tuple(service_metrics)))
    if not settings.enabled:
        return app
    provider = configure_tracing(service_name, settings)
    tracer = _server_tracer(provider)

    def start_request() -> None:
        g.soundcheck_started = time.perf_counter()
        if request.path in QUIET_PATHS:
            return
        rule = request.url_rule
        span = start_server_span(
            tracer,
            request.method,
            rule.rule if rule is not None else None,
            request.path,
            request.environ,
        )
        g.soundcheck_span = span
        g.soundcheck_context_token = context.attach(trace.set_span_in_context(span))

    def end_request(error: BaseException | None) -> None:
        span = g.pop("soundcheck_span", None)
        token = g.pop("soundcheck_context_token", None)
        if span is not None:
            if error is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            span.end()
        if token is not None:
            context.detach(token)

    app.before_request(start_request)
    app.after_request(_record)
    app.teardown_request(end_request)
    got_request_exception.connect(_remember_exception, app, weak=False)
    return app


def _metrics_view(service_metrics: tuple[MetricWrapperBase, ...]) -> Callable[[], Response]:
    def metrics() -> Response:
        body, content_type = render_metrics(
            accept=request.headers.get("Accept", ""), service_metrics=service_metrics
        )
        return Response(body, mimetype=None, content_type=content_type)

    return metrics


def _remember_exception(sender: Any, exception: BaseException, **_: Any) -> None:
    request.environ[_EXCEPTION_KEY] = exception


def _record(response: Response) -> Response:
    started = g.get("soundcheck_started")
    if started is None:  # a before_request hook ahead of ours answered: still count it
        started = time.perf_counter()
    span = g.get("soundcheck_span")
    if span is not None:
        set_answer_status(span, response.status_code)
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


def _server_tracer(provider: TracerProvider | None) -> trace.Tracer:
    """Lean spans (`lean_spans.py`) where this module's tracing provider is in place."""
    if provider is None:
        return trace.get_tracer(TRACER_NAME)
    return LeanTracer(provider, TRACER_NAME)


class _EnvironGetter(Getter[Mapping[str, Any]]):
    """W3C trace context (`traceparent`, `tracestate`, `baggage`) from a WSGI environ."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        value = carrier.get("HTTP_" + key.upper().replace("-", "_"))
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        return [k[5:].lower().replace("_", "-") for k in carrier if k.startswith("HTTP_")]


_ENVIRON_GETTER = _EnvironGetter()


def start_server_span(
    tracer: trace.Tracer,
    method: str,
    route: str | None,
    path: str,
    environ: Mapping[str, Any],
) -> trace.Span:
    """The request's SERVER span, named by its route template, continuing a caller's trace."""
    attributes: dict[str, str] = {
        "http.request.method": method,
        "url.path": path,
        "url.scheme": environ.get("wsgi.url_scheme", "http"),
    }
    if route is not None:
        attributes["http.route"] = route
    client = environ.get("REMOTE_ADDR")
    if client:
        attributes["client.address"] = client
    return tracer.start_span(
        f"{method} {route}" if route else method,
        context=propagate.extract(environ, getter=_ENVIRON_GETTER),
        kind=SpanKind.SERVER,
        attributes=attributes,
    )


def set_answer_status(span: trace.Span, status: int) -> None:
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR, f"HTTP {status}"))


# A bare WSGI route's handler: the environ in, (status, headers, body) out, never raising.
Answer = tuple[int, list[tuple[str, str]], bytes]
RouteHandler = Callable[[dict[str, Any]], Answer]


def instrument_wsgi_route(
    method: str,
    route: str,
    handler: RouteHandler,
    service_name: str | None = None,
    settings: TelemetrySettings | None = None,
) -> RouteHandler:
    """`handler` with what `instrument_flask` gives a Flask route: the same SERVER span (name,
    attributes, status), request metrics and log line, for a hot route answered in front of
    the framework (its path is `route`: no path parameters). `handler` itself when
    instrumentation is off."""
    settings = settings or load_settings()
    if not settings.enabled:
        return handler
    tracer = _server_tracer(configure_tracing(service_name, settings))

    def traced(environ: dict[str, Any]) -> Answer:
        started = time.perf_counter()
        span = start_server_span(tracer, method, route, route, environ)
        token = context.attach(trace.set_span_in_context(span))
        try:
            answer = handler(environ)
            set_answer_status(span, answer[0])
            record_request(method, route, route, answer[0], time.perf_counter() - started)
            return answer
        except BaseException as error:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        finally:
            span.end()
            context.detach(token)

    return traced
