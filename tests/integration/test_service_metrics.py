"""Each service exports its own metrics: the booking service's business series (reservations,
payments, queue, locks, ...) on its `/metrics`, and on no other service's (docs/instrumentation.md,
"What it owns, and what each service owns")."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from booking_app.metrics import BOOKING_METRICS
from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack

BOOKING_FAMILIES = {family.name for metric in BOOKING_METRICS for family in metric.describe()}


def families_at(url: str) -> set[str]:
    response = httpx.get(f"{url}/metrics", timeout=30)
    response.raise_for_status()
    return {family.name for family in text_string_to_metric_families(response.text)}


def test_booking_series_are_on_the_booking_service_metrics_only(
    settings: StackSettings, stack: Stack
) -> None:
    host = settings.host
    booking = families_at(f"http://{host}:{settings.booking_port}")
    router = families_at(f"http://{host}:{settings.router_port}")
    pipeline = families_at(f"http://{host}:{settings.pipeline_otlp_port}")

    assert "payment_amount_krw" in BOOKING_FAMILIES
    assert booking >= BOOKING_FAMILIES, f"missing: {sorted(BOOKING_FAMILIES - booking)}"
    assert "router_webhooks" in router  # the right service answered
    assert not BOOKING_FAMILIES & router, f"at the router: {sorted(BOOKING_FAMILIES & router)}"
    assert "pipeline_buffer_bytes" in pipeline
    assert not BOOKING_FAMILIES & pipeline, (
        f"at the pipeline: {sorted(BOOKING_FAMILIES & pipeline)}"
    )
    # What every service shares is on both services that use instrumentation/.
    assert {"http_requests", "log_records_dropped"} <= booking & router
