"""O3: ECS JSON lines with the plan's event names and the active span's ids; DEBUG off."""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

from instrumentation.logs import LoggingSetup
from tests.support.telemetry_setup import configure, telemetry_settings


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_every_line_is_ecs_json_with_service_level_and_event(
    capsys: pytest.CaptureFixture[str], logging_to: list[LoggingSetup]
) -> None:
    configure(logging_to, "booking", telemetry_settings())
    log = logging.getLogger("booking.queue")
    log.info(
        "tokens activated",
        extra={"event": "queue.tokens.activated", "activatedCount": 5, "remainingWaiting": 150},
    )
    log.warning(
        "lock not acquired within the wait time",
        extra={"event": "distributed_lock.acquisition_failed", "key": "seat:9", "waitMs": 2000},
    )

    first, second = lines(capsys.readouterr().out)
    assert first["service.name"] == "booking"
    assert first["log.level"] == "INFO"
    assert first["event.action"] == "queue.tokens.activated"
    assert first["message"] == "tokens activated"
    assert first["activatedCount"] == 5
    assert first["log.logger"] == "booking.queue"
    assert str(first["@timestamp"]).endswith("Z")
    assert second["log.level"] == "WARN"
    assert second["event.action"] == "distributed_lock.acquisition_failed"
    assert second["message"] == "lock not acquired within the wait time"
    assert second["key"] == "seat:9"


def test_only_the_event_field_sets_event_action(
    capsys: pytest.CaptureFixture[str], logging_to: list[LoggingSetup]
) -> None:
    """A message is a sentence, never read as an event name (the convention every service's log
    calls follow: test_log_convention.py)."""
    configure(logging_to, "router", telemetry_settings())
    log = logging.getLogger("router.worker")
    log.info("worker.leases_released")
    log.info("Released 3 leases.", extra={"event": "worker.leases_released"})

    bare, named = lines(capsys.readouterr().out)
    assert "event.action" not in bare
    assert named["event.action"] == "worker.leases_released"
    assert named["message"] == "Released 3 leases."


def test_lines_logged_inside_a_span_carry_its_trace_and_span_ids(
    capsys: pytest.CaptureFixture[str], logging_to: list[LoggingSetup]
) -> None:
    configure(logging_to, "booking", telemetry_settings())
    tracer = TracerProvider().get_tracer("test")
    log = logging.getLogger("booking.payments")
    with tracer.start_as_current_span("payment") as span:
        log.info("payment completed", extra={"event": "payment.completed"})
        with tracer.start_as_current_span("inner") as inner:
            log.info("inner step")
    log.info("outside any span")

    inside, nested, outside = lines(capsys.readouterr().out)
    context = span.get_span_context()
    assert inside["trace.id"] == format(context.trace_id, "032x")
    assert inside["span.id"] == format(context.span_id, "016x")
    assert nested["trace.id"] == inside["trace.id"]
    assert nested["span.id"] == format(inner.get_span_context().span_id, "016x")
    assert "trace.id" not in outside


def test_debug_is_off_by_default_and_on_when_asked(
    capsys: pytest.CaptureFixture[str], logging_to: list[LoggingSetup]
) -> None:
    configure(logging_to, "booking", telemetry_settings())
    logging.getLogger("booking.sql").debug("SELECT 1", extra={"event": "db.query"})
    assert lines(capsys.readouterr().out) == []

    configure(logging_to, "booking", telemetry_settings(log_level="DEBUG"))
    logging.getLogger("booking.sql").debug("SELECT 1", extra={"event": "db.query"})
    (line,) = lines(capsys.readouterr().out)
    assert line["log.level"] == "DEBUG"
    logging.getLogger().setLevel(logging.WARNING)


def test_exceptions_become_ecs_error_fields(
    capsys: pytest.CaptureFixture[str], logging_to: list[LoggingSetup]
) -> None:
    configure(logging_to, "booking", telemetry_settings())
    try:
        raise ConnectionError("redis unreachable")
    except ConnectionError:
        logging.getLogger("booking.redis").exception(
            "redis failed", extra={"event": "redis.failed"}
        )

    (line,) = lines(capsys.readouterr().out)
    assert line["log.level"] == "ERROR"
    assert line["error.type"] == "ConnectionError"
    assert line["error.message"] == "redis unreachable"
    assert "Traceback" in str(line["error.stack_trace"])


def test_configuring_twice_replaces_the_handlers_instead_of_doubling_lines(
    capsys: pytest.CaptureFixture[str], logging_to: list[LoggingSetup]
) -> None:
    configure(logging_to, "booking", telemetry_settings())
    configure(logging_to, "booking", telemetry_settings())
    logging.getLogger("booking").info("once")
    assert len(lines(capsys.readouterr().out)) == 1
