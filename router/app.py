"""The router's app: builds the store, routing table and delivery worker, then serves the routes
of `router.routes` (FastAPI, served by uvicorn). Imports no notifier: their libraries load only
where deliveries go (`router.targets.build_notifiers`)."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from router.console_routes import console
from router.dashboards_page import dashboard_pages
from router.delivery_process import DeliveryProcess
from router.incident_routes import incident_pages
from router.ingest import GroupCommitter
from router.logs_page import logs_pages
from router.metrics import watch_queue
from router.payload import WebhookPayload
from router.problems import answer_problems
from router.routes import Deliverer, Parts, service, webhook
from router.routing import load_routing_table
from router.settings import RouterSettings
from router.store import Store
from router.targets import build_notifiers
from router.view_pages import static_files
from router.worker import Worker


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


def instrument(app: FastAPI) -> None:
    """Tracing and request metrics from `instrumentation/` when that package is there."""
    try:
        module = importlib.import_module("instrumentation.asgi")
    except ImportError:
        return
    module.instrument_fastapi(app)


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
        DeliveryProcess() if worker_process else Worker(settings, store, build_notifiers(settings))
    )
    watch_queue(store.queue_depth)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            worker.start()
        yield
        if start_worker:
            worker.stop()
        store.close()

    app = FastAPI(
        title="Soundcheck alert router",
        version="1.0",
        description="Alertmanager webhooks (v4) in; PagerDuty, Slack, Jira and e-mail out.",
        lifespan=lifespan,
    )
    committer = GroupCommitter(store, table)
    app.state.parts = Parts(settings, store, table, worker, committer, start_worker)
    app.include_router(webhook)
    app.include_router(service)
    app.include_router(incident_pages)
    app.include_router(console)
    app.include_router(logs_pages)
    app.include_router(dashboard_pages)
    app.include_router(static_files)
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    if instrumented:  # after the routes, so it keeps our /metrics instead of adding its own
        instrument(app)
    answer_problems(app)
    return app
