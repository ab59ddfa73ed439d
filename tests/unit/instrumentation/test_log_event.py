"""`log_event` writes the line `logging` would, field for field, on stdout and shipped, without
a LogRecord when only our handlers would see it, and takes the `logging` way otherwise."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from instrumentation.logs import LoggingSetup, _only_our_handlers, log_event, register_secret
from tests.support.polling import eventually
from tests.support.telemetry_peers import ForwardPeer
from tests.support.telemetry_setup import configure, telemetry_settings

# Differ between two lines logged one after the other from two places.
MOMENT_AND_PLACE = ("@timestamp", "log.origin.file.line")
FIELDS = {
    "event": "http.request.completed",
    "event.outcome": "success",
    "http.request.method": "POST",
    "url.path": "/queue/token",
    "http.response.status_code": 201,
    "event.duration": 1_234_567,
    "queue_token": "a-token-that-must-not-leave-0001",
}


def only_our_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pytest's own capture handler on the root logger (added as the test starts), as
    in a service process."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if type(h).__module__ == "instrumentation.logs"]
    monkeypatch.setattr(root, "handlers", ours)


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def without(line: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: value for name, value in line.items() if name not in names}


def through_logging_then_direct(log: logging.Logger, message: str) -> None:
    log.info(message, extra=FIELDS)
    log_event(log, logging.INFO, message, FIELDS)


def test_log_event_writes_the_line_logging_writes_on_stdout_and_shipped(
    capsys: pytest.CaptureFixture[str],
    logging_to: list[LoggingSetup],
    forward_peer: ForwardPeer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(logging_to, "booking", telemetry_settings(forward_peer))
    only_our_handlers(monkeypatch)
    register_secret("a-registered-secret-0007")
    log = logging.getLogger("soundcheck.http")
    assert _only_our_handlers(log, logging.INFO) is not None  # the direct way is taken
    with TracerProvider().get_tracer("test").start_as_current_span("POST /queue/token"):
        through_logging_then_direct(log, "POST /queue/token answered 201 a-registered-secret-0007")

    by_logging, direct = lines(capsys.readouterr().out)
    assert list(direct) == list(by_logging)  # the same fields in the same order
    assert without(direct, MOMENT_AND_PLACE) == without(by_logging, MOMENT_AND_PLACE)
    assert direct["message"] == "POST /queue/token answered 201 [REDACTED]"
    assert direct["queue_token"] == "[REDACTED]"
    assert direct["event.action"] == "http.request.completed"
    assert len(direct["trace.id"]) == 32
    shipped = eventually(
        lambda: forward_peer.messages() if len(forward_peer.messages()) == 2 else None,
        10,
        "both records shipped",
        every=0.05,
    )
    assert shipped == [by_logging, direct]


def test_log_event_beside_a_foreign_handler_takes_the_logging_way(
    capsys: pytest.CaptureFixture[str],
    logging_to: list[LoggingSetup],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(logging_to, "booking", telemetry_settings())
    only_our_handlers(monkeypatch)
    seen: list[logging.LogRecord] = []
    foreign = logging.Handler()
    foreign.emit = seen.append  # type: ignore[method-assign]
    log = logging.getLogger("soundcheck.http.foreign")
    log.addHandler(foreign)
    try:
        log_event(log, logging.INFO, "POST /queue/token answered 201", FIELDS)
    finally:
        log.removeHandler(foreign)

    (record,) = seen
    assert record.getMessage() == "POST /queue/token answered 201"
    assert record.funcName == "test_log_event_beside_a_foreign_handler_takes_the_logging_way"
    (line,) = lines(capsys.readouterr().out)
    assert line["event.action"] == "http.request.completed"
    assert line["log.origin.function"] == record.funcName


def test_log_event_below_the_level_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    logging_to: list[LoggingSetup],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    configure(logging_to, "booking", telemetry_settings(log_level="WARNING"))
    only_our_handlers(monkeypatch)
    log_event(logging.getLogger("soundcheck.http"), logging.INFO, "answered", FIELDS)
    assert lines(capsys.readouterr().out) == []
    logging.getLogger().setLevel(logging.WARNING)
