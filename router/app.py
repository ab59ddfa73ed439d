"""The router's HTTP face: webhook, runbooks, health and metrics (FastAPI, served by uvicorn)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from router.auth import authorised
from router.context import render_graph
from router.delivery_process import DeliveryProcess
from router.ingest import GroupCommitter, IngestResult
from router.metrics import (
    ALERTS_DEDUPLICATED,
    ALERTS_RECEIVED,
    INGEST_SECONDS,
    REGISTRY,
    WATCHDOG_LAST_SEEN,
    WEBHOOKS,
    own_registry,
    watch_queue,
)
from router.notifiers.base import Notifier
from router.notifiers.email import EmailNotifier
from router.notifiers.jira import JiraNotifier
from router.notifiers.pagerduty import PagerDutyNotifier
from router.notifiers.slack import SlackNotifier
from router.payload import WebhookPayload
from router.routing import load_routing_table
from router.runbooks import render_index, render_runbook
from router.settings import RouterSettings
from router.store import Store
from router.worker import Worker

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    pass


def problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    """A 4xx/5xx body: a sentence saying what is wrong and what to do, never a stack trace."""
    WEBHOOKS.labels(str(status)).inc()
    headers = {"WWW-Authenticate": 'Bearer realm="soundcheck-router"'} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "5"}
    return JSONResponse({"detail": detail, **extra}, status_code=status, headers=headers)


def routing_problem(error: StarletteHTTPException) -> JSONResponse:
    """Starlette's own answers (no such path, wrong method) as sentences; a 405 keeps the
    `Allow` header Starlette puts on it, so a client learns which methods the path takes."""
    headers = dict(error.headers or {})
    if error.status_code == 405:
        allowed = headers.setdefault("Allow", "")
        detail = f"This path does not take that method; it answers {allowed or 'nothing'}."
    elif error.status_code == 404:
        detail = "There is nothing at this path; the API is described at /docs."
    else:
        detail = str(error.detail)
    return JSONResponse({"detail": detail}, status_code=error.status_code, headers=headers)


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus what it cannot see: the webhook body is parsed by hand (after
    the auth and size checks), so its models and the two security schemes are added here."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        payload = WebhookPayload.model_json_schema(ref_template="#/components/schemas/{model}")
        components = document.setdefault("components", {})
        components.setdefault("schemas", {}).update(
            {**payload.pop("$defs", {}), "WebhookPayload": payload}
        )
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "the router's token"},
            "basic": {"type": "http", "scheme": "basic", "description": "BASIC_USER, _PASSWORD"},
        }
        app.openapi_schema = document
    return app.openapi_schema


def make_notifiers(settings: RouterSettings) -> dict[str, Notifier]:
    def graph(alert: dict[str, Any]) -> bytes | None:
        return render_graph(settings, alert)

    return {
        "pagerduty": PagerDutyNotifier(settings),
        "slack": SlackNotifier(settings, graph),
        "jira": JiraNotifier(settings, graph),
        "email": EmailNotifier(settings),
    }


def render_metrics() -> tuple[bytes, str]:
    """Our registry, plus the process-wide one of `instrumentation/` when that package is there."""
    try:
        module = importlib.import_module("instrumentation.metrics")
    except ImportError:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    body, content_type = module.render_metrics(own_registry())
    return bytes(body), str(content_type)


def instrument(app: FastAPI) -> None:
    """Tracing and request metrics from `instrumentation/` when that package is there."""
    try:
        module = importlib.import_module("instrumentation.asgi")
    except ImportError:
        return
    module.instrument_fastapi(app)


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


class Deliverer(Protocol):
    """Whoever sends the planned deliveries: a thread here, or a process of its own."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def nudge(self) -> None: ...
    def alive(self) -> bool: ...


def create_app(
    settings: RouterSettings,
    start_worker: bool = True,
    instrumented: bool = True,
    worker_process: bool = False,
) -> FastAPI:
    """Build the app; the routing table is checked here, so a bad table stops the start.

    `worker_process` (what `python -m router` uses) delivers from a child process; otherwise a
    thread of this one delivers (tests, and the way to run it where a child is unwelcome).
    """
    table = load_routing_table(settings.routing_file, settings)
    store = Store(settings.database_url)
    store.create_schema()
    worker: Deliverer = (
        DeliveryProcess() if worker_process else Worker(settings, store, make_notifiers(settings))
    )
    committer = GroupCommitter(store, table)
    watch_queue(store.queue_depth)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            worker.start()
        yield
        if start_worker:
            worker.stop()

    app = FastAPI(
        title="Soundcheck alert router",
        version="1.0",
        description="Alertmanager webhooks (v4) in; PagerDuty, Slack, Jira and e-mail out.",
        lifespan=lifespan,
    )
    app.state.store, app.state.worker, app.state.table = store, worker, table

    @app.post(
        "/alerts",
        summary="Alertmanager webhook (payload version 4)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/WebhookPayload"}}
                },
            },
            "security": [{"bearer": []}, {"basic": []}],
        },
        responses={
            200: {"description": "persisted; every alert will be delivered"},
            401: {"description": "no or wrong credentials"},
            413: {"description": "body larger than the limit"},
            422: {"description": "not an Alertmanager v4 payload; the body says which field"},
            503: {"description": "could not persist; Alertmanager retries"},
        },
    )
    async def receive_alerts(request: Request) -> Response:
        if not authorised(request.headers.get("authorization"), settings):
            return problem(
                401,
                "Missing or wrong credentials: send the router's bearer token "
                "(Authorization: Bearer ...).",
            )
        try:
            raw = await read_limited(request, settings.max_body_bytes)
        except BodyTooLarge:
            return problem(
                413,
                f"The body is larger than {settings.max_body_bytes} bytes; "
                "lower max_alerts in Alertmanager's webhook_config.",
            )
        try:
            payload = WebhookPayload.model_validate_json(raw)
        except ValidationError as error:
            problems = [
                {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
                for e in error.errors(include_url=False, include_input=False)
            ][:20]
            return problem(
                422, "This is not an Alertmanager webhook payload (version 4).", problems=problems
            )
        if payload.receiver == settings.watchdog_receiver:
            WATCHDOG_LAST_SEEN.set(time.time())
            WEBHOOKS.labels("200").inc()
            return JSONResponse({"heartbeat": True, "deliveries_planned": 0})
        began = time.perf_counter()
        try:
            result: IngestResult = await asyncio.wrap_future(committer.submit(payload, raw))
        except SQLAlchemyError:
            log.exception(
                "The alerts could not be stored; answered 503 so that Alertmanager retries",
                extra={"event": "webhook.persist_failed"},
            )
            return problem(503, "The router could not store the alerts; Alertmanager will retry.")
        INGEST_SECONDS.observe(time.perf_counter() - began)
        if result.deliveries:
            worker.nudge()
        for alert in payload.alerts:
            ALERTS_RECEIVED.labels(alert.status).inc()
        ALERTS_DEDUPLICATED.inc(result.duplicate_events)
        WEBHOOKS.labels("200").inc()
        return JSONResponse(
            {
                "webhook_id": result.webhook_id,
                "new_alert_events": result.new_events,
                "duplicate_alert_events": result.duplicate_events,
                "deliveries_planned": result.deliveries,
            }
        )

    @app.get("/healthz", summary="liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="readiness: store reachable, worker running")
    def readyz() -> Response:
        checks: dict[str, str] = {}
        try:
            store.ping()
            checks["store"] = "ok"
        except SQLAlchemyError as error:
            checks["store"] = f"unreachable: {type(error).__name__}"
        checks["worker"] = "ok" if worker.alive() or not start_worker else "stopped"
        checks["routing_table"] = "ok"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics", summary="Prometheus metrics")
    def metrics() -> Response:
        body, content_type = render_metrics()
        return Response(body, media_type=content_type)

    @app.get("/runbooks", response_class=HTMLResponse, summary="every runbook")
    def runbooks_index() -> HTMLResponse:
        return HTMLResponse(render_index(settings.runbooks_dir))

    @app.get(
        "/runbooks/{alertname}", response_class=HTMLResponse, summary="one alert's runbook as HTML"
    )
    def runbook(alertname: str) -> Response:
        page = render_runbook(settings.runbooks_dir, alertname)
        if page is None:
            return HTMLResponse(
                "<p>There is no runbook for this alert. "
                "The runbooks are listed at <a href='/runbooks'>/runbooks</a>.</p>",
                status_code=404,
            )
        return HTMLResponse(page)

    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]

    if instrumented:  # after the routes, so it keeps our /metrics instead of adding its own
        instrument(app)

    @app.exception_handler(StarletteHTTPException)
    async def routing_error(_request: Request, error: StarletteHTTPException) -> Response:
        return routing_problem(error)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, error: Exception) -> Response:
        log.exception(
            "The router failed on a request; answered 500",
            extra={"event": "router.unexpected_error"},
        )
        return problem(500, "The router failed on this request; its log says why.")

    return app
