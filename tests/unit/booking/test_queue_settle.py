"""Settling the queue follows a commit (a token issued, a payment made): when it fails, the
request that ran it is still answered for what it committed, and the failure is logged."""

from __future__ import annotations

import logging
import socket

import pytest
from pydantic import SecretStr

from booking_app import waiting_queue
from booking_app.services import build_services
from booking_app.settings import BookingSettings


def test_a_settle_that_cannot_reach_the_database_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as unused:  # a port nothing listens on: connections are refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings = BookingSettings(
        database_url=SecretStr(f"mysql+pymysql://nobody:nothing@127.0.0.1:{port}/none")
    )
    svc = build_services(settings)
    try:
        with caplog.at_level(logging.WARNING, logger="booking_app.queue"):
            assert waiting_queue.settle_queue(svc) is None
    finally:
        svc.db.engine.dispose()
    failed = [r for r in caplog.records if getattr(r, "event", None) == "queue.settle_failed"]
    assert len(failed) == 1, caplog.records
    assert getattr(failed[0], "error.type") == "OperationalError"
