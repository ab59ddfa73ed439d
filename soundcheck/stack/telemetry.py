"""Where a Python service of the stack sends its telemetry: this stack's pipeline.

Traces through the standard OTEL_EXPORTER_OTLP_ENDPOINT (the OpenTelemetry SDK reads it), logs
through the forward protocol. Each process names itself (booking, booking-worker, router); an
OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES the user sets reaches every child and wins.
"""

from __future__ import annotations

from soundcheck.settings import StackSettings


def telemetry_environment(s: StackSettings) -> dict[str, object]:
    """TelemetrySettings / OpenTelemetry variables for a child (checked by child_environment)."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{s.host}:{s.pipeline_otlp_port}",
        "SOUNDCHECK_FLUENT_HOST": s.host,
        "SOUNDCHECK_FLUENT_PORT": s.pipeline_forward_port,
    }
