"""The router's HTTP routes: the webhook, health, metrics and runbooks.

What a route needs (settings, store, routing table, worker) comes in as the `Parts` dependency,
what `create_app` built; credentials are a dependency of the webhook; an error is raised as a
`Problem`.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from router.auth import authorised
from router.ingest import GroupCommitter, IngestResult
from router.metrics import (
    ALERTS_DEDUPLICATED,
    ALERTS_RECEIVED,
    INGEST_SECONDS,
    REFIRES_HELD,
    REGISTRY,
    WATCHDOG_LAST_SEEN,
    WEBHOOKS,
    own_registry,
)
from router.payload import WebhookPayload
from router.problems import Problem
from router.routing import RoutingTable
from router.runbooks import render_index, render_runbook
from router.settings import RouterSettings
from router.store import Store

log = logging.getLogger(__name__)


class Deliverer(Protocol):
    """Whoever sends the planned deliveries: a thread here, or a process of its own."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def nudge(self) -> None: ...
    def alive(self) -> bool: ...


@dataclass(frozen=True)
class Parts:
    """What `create_app` built, which the routes get as a dependency."""

    settings: RouterSettings
    store: Store
    table: RoutingTable
    worker: Deliverer
    committer: GroupCommitter
    worker_started: bool


def parts_of(request: Request) -> Parts:
    parts: Parts = request.app.state.parts
    return parts


PartsDep = Annotated[Parts, Depends(parts_of)]


def require_credentials(request: Request, parts: PartsDep) -> None:
    if not authorised(request.headers.get("authorization"), parts.settings):
        raise Problem(
            401,
            "Missing or wrong credentials: send the router's bearer token "
            "(Authorization: Bearer ...).",
        )


class WebhookRoute(APIRoute):
    """Counts every answer of its routes in `router_webhooks_total`, problems included (and
    those of the credentials check, which runs before the route's own code)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def counted(request: Request) -> Response:
            try:
                response = await handler(request)
            except Problem as problem:
                WEBHOOKS.labels(str(problem.status)).inc()
                raise
            except Exception:
                WEBHOOKS.labels("500").inc()
                raise
            WEBHOOKS.labels(str(response.status_code)).inc()
            return response

        return counted


webhook = APIRouter(route_class=WebhookRoute)
service = APIRouter()


async def read_limited(request: Request, limit: int) -> bytes:
    too_large = Problem(
        413,
        f"The body is larger than {limit} bytes; lower max_alerts in Alertmanager's "
        "webhook_config.",
    )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise too_large
    return bytes(body)


def parse_payload(raw: bytes) -> WebhookPayload:
    try:
        return WebhookPayload.model_validate_json(raw)
    except ValidationError as error:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
            for e in error.errors(include_url=False, include_input=False)
        ][:20]
        raise Problem(
            422, "This is not an Alertmanager webhook payload (version 4).", problems=problems
        ) from None


@webhook.post(
    "/alerts",
    summary="Alertmanager webhook (payload version 4)",
    dependencies=[Depends(require_credentials)],
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
async def receive_alerts(
    request: Request, parts: PartsDep, background: BackgroundTasks
) -> JSONResponse:
    raw = await read_limited(request, parts.settings.max_body_bytes)
    payload = parse_payload(raw)
    if payload.receiver == parts.settings.watchdog_receiver:
        WATCHDOG_LAST_SEEN.set(time.time())
        return JSONResponse({"heartbeat": True, "deliveries_planned": 0})
    began = time.perf_counter()
    try:
        result: IngestResult = await asyncio.wrap_future(parts.committer.submit(payload, raw))
    except SQLAlchemyError:
        log.exception(
            "The alerts could not be stored; answered 503 so that Alertmanager retries",
            extra={"event": "webhook.persist_failed"},
        )
        raise Problem(
            503, "The router could not store the alerts; Alertmanager will retry."
        ) from None
    INGEST_SECONDS.observe(time.perf_counter() - began)
    if result.deliveries:
        parts.worker.nudge()
    for alert in payload.alerts:
        ALERTS_RECEIVED.labels(alert.status).inc()
    ALERTS_DEDUPLICATED.inc(result.duplicate_events)
    REFIRES_HELD.inc(result.held_refires)
    if any(alert.status == "resolved" for alert in payload.alerts):
        from router.incident_actions import end_silences_until_resolved  # loads httpx: late

        background.add_task(end_silences_until_resolved, parts.settings, parts.store, payload)
    return JSONResponse(
        {
            "webhook_id": result.webhook_id,
            "new_alert_events": result.new_events,
            "duplicate_alert_events": result.duplicate_events,
            "deliveries_planned": result.deliveries,
        }
    )


@service.get("/healthz", summary="liveness")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def routing_check(table: RoutingTable, settings: RouterSettings) -> str:
    """Every secret the table's routes name is set (PagerDuty routing keys): without one, its
    deliveries would fail."""
    missing = table.missing_settings(settings)
    return f"missing settings: {', '.join(missing)}" if missing else "ok"


@service.get("/readyz", summary="readiness: store reachable, worker running, routes deliverable")
def readyz(parts: PartsDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        parts.store.ping()
        checks["store"] = "ok"
    except SQLAlchemyError as error:
        checks["store"] = f"unreachable: {type(error).__name__}"
    checks["worker"] = "ok" if parts.worker.alive() or not parts.worker_started else "stopped"
    checks["routing_table"] = routing_check(parts.table, parts.settings)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def render_metrics() -> tuple[bytes, str]:
    """Our registry, plus the process-wide one of `instrumentation/` when that package is there."""
    try:
        module = importlib.import_module("instrumentation.metrics")
    except ImportError:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    body, content_type = module.render_metrics(own_registry())
    return bytes(body), str(content_type)


@service.get("/metrics", summary="Prometheus metrics")
def metrics() -> Response:
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)


@service.get("/runbooks", response_class=HTMLResponse, summary="every runbook")
def runbooks_index(parts: PartsDep) -> HTMLResponse:
    return HTMLResponse(render_index(parts.settings.runbooks_dir))


@service.get(
    "/runbooks/{alertname}", response_class=HTMLResponse, summary="one alert's runbook as HTML"
)
def runbook(alertname: str, parts: PartsDep) -> Response:
    page = render_runbook(parts.settings.runbooks_dir, alertname)
    if page is None:
        return HTMLResponse(
            "<p>There is no runbook for this alert. "
            "The runbooks are listed at <a href='/runbooks'>/runbooks</a>.</p>",
            status_code=404,
        )
    return HTMLResponse(page)
