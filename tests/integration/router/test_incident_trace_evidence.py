"""The incident page's span tree from real spans in Elasticsearch: when the error lines' traces
are not there (yet), the window's failed or slowest request is drawn instead, and a window
without any request gets no tree."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from router.evidence import ChosenTrace, LogLine, Window, chosen_trace, span_tree
from router.settings import RouterSettings
from soundcheck.settings import StackSettings
from tests.support.harness import parts_up
from tests.support.polling import eventually

NOT_STORED = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def evidence_settings(settings: StackSettings) -> Iterator[RouterSettings]:
    with parts_up(settings, ["elasticsearch", "pipeline"]):
        yield RouterSettings(
            elasticsearch_url=f"http://{settings.host}:{settings.elasticsearch_port}"
        )


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _send_requests(
    settings: StackSettings, service: str, requests: list[tuple[str, float, bool]]
) -> dict[str, str]:
    """The service's requests (name, seconds, failed) as two-span traces through the pipeline."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    endpoint = f"http://{settings.host}:{settings.pipeline_otlp_port}/v1/traces"
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    tracer = provider.get_tracer("soundcheck.tests")
    trace_ids = {}
    for name, seconds, failed in requests:
        with tracer.start_as_current_span(f"GET /{name}", kind=SpanKind.SERVER) as root:
            with tracer.start_as_current_span(f"{name} query") as child:
                time.sleep(seconds)  # the span's duration, not a wait for readiness
                if failed:
                    child.set_status(Status(StatusCode.ERROR, "lock busy"))
            if failed:
                root.set_status(Status(StatusCode.ERROR, "500"))
            trace_ids[name] = format(root.get_span_context().trace_id, "032x")
    provider.shutdown()
    return trace_ids


def test_span_tree_falls_back_to_the_windows_failed_then_slowest_request(
    evidence_settings: RouterSettings, settings: StackSettings
) -> None:
    service, healthy = (f"test-{uuid.uuid4().hex[:10]}" for _ in range(2))
    start = _iso(time.time() - 60)
    trace_ids = _send_requests(settings, service, [("slow", 0.05, False), ("failed", 0, True)])
    trace_ids |= _send_requests(settings, healthy, [("fast", 0, False), ("slowest", 0.05, False)])
    window = Window(service, start, _iso(time.time() + 60))
    lines = [LogLine("", "error", "booking.failed", "database down", NOT_STORED)]

    chosen = eventually(
        lambda: (
            (found := chosen_trace(evidence_settings, window, lines))
            and found.trace_id == trace_ids["failed"]
            and found
        ),
        60,
        "the failed request chosen once its spans are indexed",
    )
    assert chosen.why.startswith("The window's failed request (the log lines' traces")
    tree = span_tree(evidence_settings, chosen.trace_id)
    assert [(span.name, span.depth, span.status) for span in tree] == [
        ("GET /failed", 0, "ERROR"),
        ("failed query", 1, "ERROR"),
    ]

    stored_line = [LogLine("", "error", "booking.failed", "slow", trace_ids["slow"])]
    from_line = chosen_trace(evidence_settings, window, stored_line)
    assert from_line == ChosenTrace(trace_ids["slow"], "The request of the newest line above.")

    healthy_window = Window(healthy, start, window.end)
    slowest = eventually(
        lambda: (
            (found := chosen_trace(evidence_settings, healthy_window, []))
            and found.trace_id == trace_ids["slowest"]
            and found
        ),
        60,
        "the healthy service's slowest request chosen once both are indexed",
    )
    assert slowest.why == "The window's slowest request."

    elsewhere = Window(f"{service}-other", start, window.end)
    assert chosen_trace(evidence_settings, elsewhere, lines) is None
