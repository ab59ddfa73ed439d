"""The `booking` fixture: the session's main instance of the booking service.

How an instance is started, and why each has its own database and port, is in
tests/support/booking_instances.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.booking_instances import BookingInstance, start_instance, stop_instance


@pytest.fixture(scope="session")
def booking(stack: Stack, settings: StackSettings) -> Iterator[BookingInstance]:
    """The main test instance: room for many ACTIVE tokens, a breaker that reacts in seconds."""
    instance = start_instance(
        settings,
        "main",
        redis_db=1,
        BOOKING_MAX_ACTIVE_TOKENS="1000",
        BOOKING_WORKERS="3",
        BOOKING_REDIS_TIMEOUT_SECONDS="0.5",
        BOOKING_BREAKER_VOLUME_THRESHOLD="5",
        BOOKING_BREAKER_RESET_SECONDS="2",
        BOOKING_CACHE_TTL_SECONDS="60",
    )
    yield instance
    stop_instance(instance)
