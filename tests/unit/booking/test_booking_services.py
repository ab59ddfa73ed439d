"""A process builds its services (pools, breaker, in-process locks) once, even when its first
requests all ask for them at the same moment (otherwise a worker's first requests each
build their own, and its in-process seat locks exclude nothing)."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from booking_app import services as services_module

CALLERS = 8


def test_first_requests_at_once_share_one_set_of_services(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    # Every caller that gets into the build meets the others here; with the build guarded only
    # one gets in, waits out the barrier alone and builds once.
    meeting = threading.Barrier(CALLERS, timeout=2)

    def build(_settings: Any) -> object:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        built.append(object())
        return built[-1]

    monkeypatch.setattr(services_module, "build_services", build)
    monkeypatch.setattr(services_module, "load_settings", lambda: None)
    services_module._built_once.cache_clear()
    try:
        with ThreadPoolExecutor(max_workers=CALLERS) as pool:
            got = list(pool.map(lambda _: services_module.services(), range(CALLERS)))
    finally:
        services_module._built_once.cache_clear()
    assert len(built) == 1
    assert all(one is built[0] for one in got)
