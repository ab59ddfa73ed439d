"""What every instrumented HTTP request records, whatever the framework: metrics and the log line.

Shared by `wsgi.py` (Flask) and `asgi.py` (FastAPI) so both services count and log requests the
same way (`http_requests_total`, `http_request_duration_seconds`, the plan's
`http.request.completed` / `http.request.failed` events with ECS fields).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from opentelemetry import trace
from prometheus_client.metrics import Counter, Histogram

from instrumentation import metrics
from instrumentation.logs import log_event

log = logging.getLogger("soundcheck.http")

# Requests that are not worth a log line or a span (scrapes and probes every few seconds).
QUIET_PATHS = frozenset({"/metrics", "/health", "/ready"})
UNMATCHED_ROUTE = "unmatched"


# A metric's child for a set of labels is the same object every time: looked up once, not per
# request (prometheus_client checks and joins the labels under a lock on every `labels()`).
@lru_cache(maxsize=4096)
def _requests_counted(method: str, handler: str, status: int) -> Counter:
    return metrics.HTTP_REQUESTS.labels(method=method, handler=handler, status=str(status))


@lru_cache(maxsize=4096)
def _requests_timed(method: str, handler: str) -> Histogram:
    return metrics.HTTP_DURATION.labels(method=method, handler=handler)


def record_request(
    method: str,
    route: str | None,
    path: str,
    status: int,
    seconds: float,
    error: BaseException | None = None,
) -> None:
    """Count and time one answered request, and log it (quiet paths are counted only)."""
    handler = route or UNMATCHED_ROUTE
    _requests_counted(method, handler, status).inc()
    context = trace.get_current_span().get_span_context()
    exemplar = (
        {"trace_id": format(context.trace_id, "032x")} if context.trace_flags.sampled else None
    )
    _requests_timed(method, handler).observe(seconds, exemplar)
    if path in QUIET_PATHS and status < 500:
        return
    fields = {
        "http.request.method": method,
        "url.path": path,
        "http.route": handler,
        "http.response.status_code": status,
        "event.duration": int(seconds * 1_000_000_000),
    }
    if status >= 500 or error is not None:
        if log.isEnabledFor(logging.ERROR):
            log.error(
                "%s %s failed with %d",
                method,
                path,
                status,
                extra={"event": "http.request.failed", "event.outcome": "failure", **fields},
                exc_info=(type(error), error, error.__traceback__) if error else None,
            )
    else:
        log_event(
            log,
            logging.INFO,
            f"{method} {path} answered {status}",
            {"event": "http.request.completed", "event.outcome": "success", **fields},
        )
