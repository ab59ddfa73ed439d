"""Structured logs (SPEC O3): ECS JSON lines on stdout and shipped over the forward protocol.

`configure_logging(service_name)` once at process start. Then log as usual: the message a
sentence, the plan's event name in `extra` (one convention for every service):

    log.info("seat reserved", extra={"event": "reservation.created", "reservation.id": 7})

Every line carries `trace.id`/`span.id` of the span active when it was logged (none outside a
span), `event.action` = the event name, `service.name`, `log.level`. Secrets never reach a handler
(`redaction.py`), and the forward handler never blocks (`shipper.py`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from opentelemetry import trace

from instrumentation.redaction import (
    redact_text,
    redact_value,
    register_secret,
    register_secrets_from_environment,
)
from instrumentation.settings import TelemetrySettings, load_settings, service_identity
from instrumentation.shipper import ForwardShipper

ECS_VERSION = "8.11.0"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName", "trace_id", "span_id", "redacted", "ecs_document"}
)
_LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "FATAL"}
_MARKER = "_soundcheck_instrumentation"

__all__ = ["LoggingSetup", "configure_logging", "log_event", "register_secret"]


# --- record creation: trace ids and message redaction for every handler ---------------------


def _install_record_factory() -> None:
    """Wrap the LogRecord factory once: the active span's ids are read in the logging thread,
    and the formatted message is redacted before any handler (ours or anyone's) sees it."""
    current = logging.getLogRecordFactory()
    if getattr(current, _MARKER, False):
        return
    make: Callable[..., logging.LogRecord] = current

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        else:
            record.trace_id = record.span_id = None
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact_text(message)
        record.args = None
        return record

    setattr(factory, _MARKER, True)
    logging.setLogRecordFactory(factory)


class RedactionFilter(logging.Filter):
    """Masks secret-named `extra` fields and exception text; attached to every handler we own
    (the record factory already cleaned the message)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "redacted", False):
            return True
        for name in list(record.__dict__):
            if name not in _STANDARD_ATTRIBUTES and not name.startswith("_"):
                record.__dict__[name] = redact_value(name, record.__dict__[name])
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        record.redacted = True
        return True


# --- the ECS document ------------------------------------------------------------------------


class EcsDocuments:
    """Builds (once per record, shared by all our handlers) the ECS document of a record."""

    def __init__(self, service_name: str, environment: str) -> None:
        self.service_name = service_name
        self.environment = environment
        self.dataset = f"{service_name}.log"

    _second = -1
    _second_text = ""

    def _timestamp(self, created: float) -> str:
        """ISO 8601 UTC with microseconds; the seconds part is formatted once per second."""
        second = int(created)
        if second != self._second:
            moment = datetime.fromtimestamp(second, UTC)
            self._second_text, self._second = moment.strftime("%Y-%m-%dT%H:%M:%S."), second
        return f"{self._second_text}{int((created - second) * 1_000_000):06d}Z"

    def document(self, record: logging.LogRecord) -> dict[str, Any]:
        cached: dict[str, Any] | None = getattr(record, "ecs_document", None)
        if cached is not None:
            return cached
        document: dict[str, Any] = {
            "@timestamp": self._timestamp(record.created),
            "log.level": _LEVEL_NAMES.get(record.levelname, record.levelname),
            "message": record.msg if isinstance(record.msg, str) else str(record.msg),
            "ecs.version": ECS_VERSION,
            "service.name": self.service_name,
            "service.environment": self.environment,
            "event.dataset": self.dataset,
            "log.logger": record.name,
            "log.origin.file.name": record.filename,
            "log.origin.file.line": record.lineno,
            "log.origin.function": record.funcName,
            "process.pid": record.process,
            "process.thread.name": record.threadName,
        }
        trace_id = getattr(record, "trace_id", None)
        if trace_id:
            document["trace.id"] = trace_id
            document["span.id"] = getattr(record, "span_id", None)
        for name, value in record.__dict__.items():
            if name in _STANDARD_ATTRIBUTES or name.startswith("_"):
                continue
            if name == "event":
                document["event.action"] = value
            else:
                document[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            document["error.type"] = record.exc_info[0].__name__
            document["error.message"] = redact_text(str(record.exc_info[1]))
        if record.exc_text:
            document["error.stack_trace"] = record.exc_text
        record.ecs_document = document
        return document


class EcsJsonFormatter(logging.Formatter):
    """One ECS JSON object per line."""

    def __init__(self, documents: EcsDocuments) -> None:
        super().__init__()
        self.documents = documents

    def format(self, record: logging.LogRecord) -> str:
        return orjson.dumps(self.documents.document(record), default=str).decode()


class EcsStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """ECS JSON lines on a stream (stdout): a record's, or a document `log_event` built."""

    def __init__(self, documents: EcsDocuments, stream: Any) -> None:
        super().__init__(stream)
        self.documents = documents
        self.setFormatter(EcsJsonFormatter(documents))

    def emit_document(self, document: dict[str, Any], created: float) -> None:
        line = orjson.dumps(document, default=str).decode() + self.terminator
        with contextlib.suppress(Exception):  # a logging handler must never raise
            self.acquire()
            try:
                self.stream.write(line)
                self.flush()
            finally:
                self.release()


class ForwardHandler(logging.Handler):
    """Hands each record's ECS document to the shipper; returns at once, whatever the network."""

    def __init__(self, documents: EcsDocuments, shipper: ForwardShipper) -> None:
        super().__init__()
        self.documents = documents
        self.shipper = shipper

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.shipper.submit(self.documents.document(record), record.created)
        except Exception:  # a logging handler must never raise into the caller
            self.handleError(record)

    def emit_document(self, document: dict[str, Any], created: float) -> None:
        with contextlib.suppress(Exception):
            self.shipper.submit(document, created)

    def close(self) -> None:
        self.shipper.close()
        super().close()


# --- a line written without a LogRecord ------------------------------------------------------


def log_event(logger: logging.Logger, level: int, message: str, fields: Mapping[str, Any]) -> None:
    """`logger.log(level, message, extra=fields)`: the same ECS line, the document built here
    once and handed straight to our handlers when only they would see the record.

    A request's log line through `logging` (the caller found on the stack, a LogRecord, the
    factory, the filter, the formatter, one handler after the other) was ~15 % of an
    instrumented booking worker's CPU (docs/PERFORMANCE.md). Any handler or filter of someone
    else's, or another record factory, and the line takes the `logging` way, unchanged.
    """
    if not logger.isEnabledFor(level):
        return
    handlers = _only_our_handlers(logger, level)
    if handlers is None or any(name in _STANDARD_ATTRIBUTES for name in fields):
        logger.log(level, message, extra=dict(fields), stacklevel=2)
        return
    if not handlers:
        return
    created = time.time()
    caller = sys._getframe(1)
    code = caller.f_code
    level_name = logging.getLevelName(level)
    documents = handlers[0].documents
    document: dict[str, Any] = {
        "@timestamp": documents._timestamp(created),
        "log.level": _LEVEL_NAMES.get(level_name, level_name),
        "message": redact_text(message),
        "ecs.version": ECS_VERSION,
        "service.name": documents.service_name,
        "service.environment": documents.environment,
        "event.dataset": documents.dataset,
        "log.logger": logger.name,
        "log.origin.file.name": os.path.basename(code.co_filename),
        "log.origin.file.line": caller.f_lineno,
        "log.origin.function": code.co_name,
        "process.pid": os.getpid() if logging.logProcesses else None,
        "process.thread.name": threading.current_thread().name if logging.logThreads else None,
    }
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        document["trace.id"] = format(context.trace_id, "032x")
        document["span.id"] = format(context.span_id, "016x")
    for name, value in fields.items():
        if name.startswith("_"):
            continue
        document["event.action" if name == "event" else name] = redact_value(name, value)
    for handler in handlers:
        handler.emit_document(document, created)


def _only_our_handlers(
    logger: logging.Logger, level: int
) -> list[EcsStreamHandler | ForwardHandler] | None:
    """The handlers `logger.log(level, ...)` would reach, when all are ours with no filter but
    the redaction one and our record factory is the one in place; None otherwise."""
    if not getattr(logging.getLogRecordFactory(), _MARKER, False):
        return None
    handlers: list[EcsStreamHandler | ForwardHandler] = []
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if not isinstance(handler, EcsStreamHandler | ForwardHandler):
                return None
            if not all(isinstance(item, RedactionFilter) for item in handler.filters):
                return None
            if level >= handler.level:
                handlers.append(handler)
        if not current.propagate:
            break
        current = current.parent
    if not handlers and logging.lastResort is not None:
        return None  # logging would print to stderr: let it
    return handlers


class LoggingSetup:
    """What `configure_logging` installed (tests and shutdown code use it)."""

    def __init__(self, settings: TelemetrySettings, handlers: list[logging.Handler]) -> None:
        self.settings = settings
        self.handlers = handlers

    @property
    def shipper(self) -> ForwardShipper | None:
        for handler in self.handlers:
            if isinstance(handler, ForwardHandler):
                return handler.shipper
        return None

    def close(self) -> None:
        root = logging.getLogger()
        for handler in self.handlers:
            root.removeHandler(handler)
            handler.close()


_configure_lock = threading.Lock()
_current: LoggingSetup | None = None


def configure_logging(
    service_name: str | None = None, settings: TelemetrySettings | None = None
) -> LoggingSetup:
    """Route the root logger to ECS JSON on stdout and to the forward receiver.

    Safe to call again (tests, reloads): the previous handlers are closed and replaced.
    With `SOUNDCHECK_INSTRUMENTATION=off` only the stdout lines remain.
    """
    global _current
    settings = settings or load_settings()
    # The same service.name and environment as the traces (OTEL_SERVICE_NAME and
    # OTEL_RESOURCE_ATTRIBUTES win over the code's own name).
    service, environment = service_identity(service_name)
    register_secrets_from_environment()
    _install_record_factory()
    documents = EcsDocuments(service, environment)
    handlers: list[logging.Handler] = []
    if settings.log_stdout:
        handlers.append(EcsStreamHandler(documents, sys.stdout))
    if settings.enabled and settings.fluent_enabled:
        handlers.append(
            ForwardHandler(documents, ForwardShipper(settings, settings.tag_for(service)))
        )
    redaction = RedactionFilter()
    for handler in handlers:
        handler.addFilter(redaction)
        setattr(handler, _MARKER, True)
    with _configure_lock:
        if _current is not None:
            _current.close()
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, _MARKER, False):
                root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(settings.log_level)
        _current = LoggingSetup(settings, handlers)
    # Libraries that chat at DEBUG/INFO about every request stay at WARNING.
    for noisy in ("urllib3", "kafka", "werkzeug", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return _current
