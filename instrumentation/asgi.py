"""FastAPI (ASGI, uvicorn) instrumentation: HTTP spans, request metrics and logs.

    app = FastAPI()
    instrument_fastapi(app, "router")

The same metrics and log line as `wsgi.py`, from a small ASGI middleware that runs inside the
OpenTelemetry server span. `/metrics` is added only when the app has none; an app with its own
registry renders both with `instrumentation.metrics.render_metrics(own_registry)`.
"""

from __future__ import annotations

import time

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from instrumentation.http_requests import QUIET_PATHS, record_request
from instrumentation.metrics import render_metrics
from instrumentation.settings import TelemetrySettings, load_settings
from instrumentation.tracing import configure_tracing


class RequestMetricsMiddleware:
    """Counts, times and logs each HTTP request (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_with_status)
        except Exception as exception:
            error = exception
            raise
        finally:
            route = scope.get("route")
            record_request(
                scope.get("method", "GET"),
                getattr(route, "path", None),
                scope.get("path", ""),
                status,
                time.perf_counter() - started,
                error,
            )


def instrument_fastapi(
    app: FastAPI, service_name: str | None = None, settings: TelemetrySettings | None = None
) -> FastAPI:
    """Trace, count, time and log every request of `app`; serve `/metrics` if it has none."""
    settings = settings or load_settings()
    if not any(getattr(route, "path", None) == "/metrics" for route in app.routes):
        app.add_api_route("/metrics", _metrics_view, methods=["GET"], include_in_schema=False)
    if not settings.enabled:
        return app
    provider = configure_tracing(service_name, settings)
    app.add_middleware(RequestMetricsMiddleware)
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=",".join(sorted(QUIET_PATHS)),
        # One span per request, not three: the ASGI "http send"/"http receive" spans say nothing
        # the server span does not, and tripled the export work done under the GIL.
        exclude_spans=["receive", "send"],
    )
    return app


def _metrics_view(request: Request) -> Response:
    body, content_type = render_metrics(accept=request.headers.get("accept", ""))
    return Response(body, media_type=content_type)
