"""What the sandbox received and which faults are on; shared by every fake, under one lock."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field
from starlette.responses import JSONResponse, Response

from router.targets import TARGETS as ROUTER_TARGETS
from sandbox.settings import load_settings

# The router's targets, each with a stand-in here.
TARGETS = tuple(ROUTER_TARGETS)


def known_target(name: str) -> str:
    if name not in TARGETS:
        raise ValueError(f"Input should be one of {', '.join(map(repr, TARGETS))}")
    return name


Target = Annotated[str, AfterValidator(known_target)]


class Fault(BaseModel):
    """One switched-on fault. `kind`: error (status, rate), 429, latency, down."""

    kind: Literal["error", "429", "latency", "down"]
    status: int = Field(500, ge=400, le=599)
    rate: float = Field(1.0, ge=0.0, le=1.0)
    latency_ms: int = Field(0, ge=0, le=120_000)
    retry_after: int = Field(1, ge=0, le=3600)
    for_seconds: float | None = Field(None, gt=0)
    slack_error: str | None = Field(None, description="answer Slack calls ok:false with this error")
    until: float | None = None


def kept_per_target() -> int:
    return load_settings().keep


@dataclass
class SandboxState:
    """`received` keeps the newest `keep` entries per target (SOUNDCHECK_SANDBOX_KEEP): a demo
    left running, or a benchmark, must not grow the sandbox without bound."""

    keep: int = field(default_factory=kept_per_target)
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: dict[str, deque[dict[str, Any]]] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    counter: int = 0

    def __post_init__(self) -> None:
        self.received = {t: deque(maxlen=self.keep) for t in TARGETS}

    def record(self, target: str, kind: str, body: Any, **extra: Any) -> dict[str, Any]:
        with self.lock:
            self.counter += 1
            entry = {"seq": self.counter, "at": time.time(), "kind": kind, "body": body, **extra}
            self.received[target].append(entry)
            return entry

    def newest_first(self, target: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(reversed(self.received[target]))

    def active_fault(self, target: str) -> Fault | None:
        with self.lock:
            fault = self.faults.get(target)
            if fault and fault.until is not None and time.time() > fault.until:
                del self.faults[target]
                return None
            return fault

    def set_fault(self, target: str, fault: Fault) -> None:
        if fault.for_seconds:
            fault.until = time.time() + fault.for_seconds
        with self.lock:
            self.faults[target] = fault

    def clear_fault(self, target: str) -> None:
        with self.lock:
            self.faults.pop(target, None)


STATE = SandboxState()


async def injected_fault(target: str) -> Response | None:
    """The response a switched-on fault gives instead of the real one, or None to go on."""
    fault = STATE.active_fault(target)
    if fault is None:
        return None
    if fault.latency_ms:
        await asyncio.sleep(fault.latency_ms / 1000)
    if random.random() >= fault.rate:  # noqa: S311 - fault injection, not security
        return None
    STATE.record(target, "fault", {"kind": fault.kind, "status": fault.status})
    if fault.kind == "latency":
        return None
    if fault.kind == "429":
        body = (
            {"ok": False, "error": "ratelimited"}
            if target == "slack"
            else {"status": "throttle exceeded"}
        )
        return JSONResponse(body, status_code=429, headers={"Retry-After": str(fault.retry_after)})
    if fault.kind == "down":
        return Response(status_code=503, headers={"Connection": "close"})
    if target == "slack" and fault.slack_error:
        return JSONResponse({"ok": False, "error": fault.slack_error})
    return JSONResponse({"error": f"sandbox fault: {fault.status}"}, status_code=fault.status)
