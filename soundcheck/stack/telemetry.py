"""Where a Python service of the stack sends its telemetry: this stack's pipeline.

Traces through the standard OTEL_EXPORTER_OTLP_ENDPOINT (the OpenTelemetry SDK reads it), logs
through the forward protocol. The user's own OTEL_* variables (OTEL_RESOURCE_ATTRIBUTES, a
sampler) reach every child; the stack sets only the endpoint, and the router's service name.
"""

from __future__ import annotations

from soundcheck.settings import StackSettings


def telemetry_environment(s: StackSettings, service_name: str | None = None) -> dict[str, object]:
    """TelemetrySettings / OpenTelemetry variables for a child (checked by child_environment).

    `service_name` for a service whose code does not name its traces (the router's FastAPI app);
    booking names its two processes itself (booking, booking-worker), so it gets none.
    """
    values: dict[str, object] = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{s.host}:{s.pipeline_otlp_port}",
        "SOUNDCHECK_FLUENT_HOST": s.host,
        "SOUNDCHECK_FLUENT_PORT": s.pipeline_forward_port,
    }
    if service_name:
        values["OTEL_SERVICE_NAME"] = service_name
    return values
