"""Telemetry settings and logging setups for the instrumentation tests (both tiers)."""

from __future__ import annotations

from instrumentation.logs import LoggingSetup, configure_logging
from instrumentation.settings import TelemetrySettings
from tests.support.telemetry_peers import ForwardPeer, shared_otlp_peer


def telemetry_settings(peer: ForwardPeer | None = None, **overrides: object) -> TelemetrySettings:
    """Settings pointing at `peer`, with short retry pauses so tests stay quick (and the
    process's tracing at the shared OTLP peer)."""
    shared_otlp_peer()
    values: dict[str, object] = {
        "instrumentation": "on",
        "fluent_enabled": peer is not None,
        "fluent_host": "127.0.0.1",
        "fluent_port": peer.port if peer else 9,
        "log_retry_max_seconds": 0.2,
        "log_flush_on_exit_seconds": 0.5,
    }
    values.update(overrides)
    return TelemetrySettings(**values)  # type: ignore[arg-type]


def configure(
    setups: list[LoggingSetup], service: str, settings: TelemetrySettings
) -> LoggingSetup:
    setup = configure_logging(service, settings)
    setups.append(setup)
    return setup
