"""A database error the service cannot name as locked rows is a 503 whose log line says which
error the driver raised: a deadlock must not read like a dead server."""

from __future__ import annotations

import logging

import pymysql
import pytest
from sqlalchemy import exc as sa_exc

from booking_app.problems import database_problem


def test_an_unavailable_database_is_logged_with_the_drivers_error_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deadlock = pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock")
    error = sa_exc.OperationalError("SELECT 1", {}, deadlock)
    with caplog.at_level(logging.ERROR):
        problem = database_problem(error)
    assert problem.status == 503
    [record] = [r for r in caplog.records if r.getMessage() == "database unavailable"]
    assert getattr(record, "error.code") == "1213"
    assert getattr(record, "error.type") == "OperationalError"
