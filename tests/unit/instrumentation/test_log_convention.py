"""One logging convention for every service (docs/instrumentation.md, "Log events"): the event
name in `extra={"event": ...}` (it becomes ECS `event.action`, where the saved searches look), the
message a sentence. Read from the source, so a new log call that breaks it fails here."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# Services whose lines are ECS documents (instrumentation/logs.py), and the CLI that runs them.
ECS_LOGGING = ("booking_app", "router", "sandbox", "instrumentation", "pipeline")
EVERY_PACKAGE = (*ECS_LOGGING, "pipeline", "soundcheck", "loadtest", "bench")
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
# An event name as the plan writes them (`distributed_lock.acquisition_failed`).
EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")


def log_calls(package: str) -> Iterator[tuple[str, ast.Call]]:
    """`log.info(...)`-style calls on a module's logger (`log`, `logger`), with their place."""
    for path in sorted((REPO / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LEVELS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"log", "logger"}
            ):
                yield f"{path.relative_to(REPO)}:{node.lineno}", node


def event_of(call: ast.Call) -> ast.expr | None:
    extra = next((keyword.value for keyword in call.keywords if keyword.arg == "extra"), None)
    if isinstance(extra, ast.Dict):
        for key, value in zip(extra.keys, extra.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "event":
                return value
    return None


def test_the_scan_finds_the_services_log_calls() -> None:
    """Guards the guard: a scan that matched nothing would pass every test below."""
    for package in ("booking_app", "router", "instrumentation", "pipeline"):  # sandbox: none
        assert any(True for _ in log_calls(package)), f"no log call found in {package}/"


def test_no_message_is_a_bare_event_name() -> None:
    bare = [
        f"{place}: {call.args[0].value}"
        for package in EVERY_PACKAGE
        for place, call in log_calls(package)
        if call.args
        and isinstance(call.args[0], ast.Constant)
        and EVENT_NAME.fullmatch(str(call.args[0].value))
    ]
    assert not bare, "write a sentence, and the event name in extra={'event': ...}: " + str(bare)


def test_every_log_call_of_an_ecs_service_names_a_well_formed_event() -> None:
    wrong = []
    for package in ECS_LOGGING:
        for place, call in log_calls(package):
            event = event_of(call)
            if event is None:
                wrong.append(f"{place}: no extra={{'event': ...}}")
            elif isinstance(event, ast.Constant) and not EVENT_NAME.fullmatch(str(event.value)):
                wrong.append(f"{place}: {event.value!r} is not an event name")
    assert not wrong, wrong
