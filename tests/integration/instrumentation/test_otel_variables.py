"""A service configured only by the standard OpenTelemetry variables: it names itself, describes
itself, exports to and samples as they say (the SDK reads them; nothing of ours re-parses them)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.polling import eventually
from tests.support.telemetry_peers import ForwardPeer, OtlpPeer

StartApp = Callable[..., Any]


def test_standard_otel_variables_set_service_resource_endpoint_and_sampler(
    start_app: StartApp, forward_peer: ForwardPeer, otlp_peer: OtlpPeer
) -> None:
    # One worker: one span queue, exported in order, so a span of the first request would reach
    # the peer before the second request's spans do.
    app = start_app(
        forward_peer,
        workers=1,
        OTEL_SERVICE_NAME="checkout-under-otel",
        OTEL_RESOURCE_ATTRIBUTES="deployment.environment=otel-test,team=payments",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_peer.endpoint,
        OTEL_TRACES_SAMPLER="parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG="0",
    )
    # A root request: ratio 0 samples none.
    assert httpx.get(f"{app.url}/work", timeout=30).status_code == 200
    # A request whose caller sampled its trace: parent-based, so this one is recorded.
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    answer = httpx.get(f"{app.url}/work", headers={"traceparent": traceparent}, timeout=30)
    assert answer.status_code == 200

    def server_span() -> list[dict[str, Any]]:
        return [span for span in otlp_peer.trace(trace_id) if span["name"] == "GET /work"]

    (span,) = eventually(server_span, 60, "the sampled request's span at the OTEL endpoint")
    assert span["service"] == "checkout-under-otel"
    assert span["resource"]["deployment.environment"] == "otel-test"
    assert span["resource"]["team"] == "payments"
    assert {exported["trace_id"] for exported in otlp_peer.spans} == {trace_id}

    def request_lines() -> list[dict[str, Any]] | None:
        lines = [
            record
            for record in forward_peer.messages()
            if record.get("event.action") == "http.request.completed"
            and record.get("url.path") == "/work"
        ]
        return lines if len(lines) >= 2 else None

    lines = eventually(request_lines, 60, "both requests' log lines shipped")
    assert {line["service.name"] for line in lines} == {"checkout-under-otel"}
    assert {line["service.environment"] for line in lines} == {"otel-test"}
