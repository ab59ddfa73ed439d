"""The booking service's pool pings no connection on every checkout, yet one that died while
idle in the pool (a MariaDB restart, a killed session) is replaced before a request gets it."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from booking_app import db
from booking_app.settings import BookingSettings
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import database_url
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack


def test_connection_killed_while_idle_is_replaced_before_use(
    stack: Stack, settings: StackSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = database_url(settings, settings.mariadb_database)
    engine = db.make_engine(
        BookingSettings(database_url=SecretStr(url), pool_size=1, pool_max_overflow=0)
    )
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT CONNECTION_ID()")).scalar_one()
        with app_connection(settings) as admin, admin.cursor() as cursor:
            cursor.execute(f"KILL {int(first)}")
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # it has been idle "long enough"
        with engine.connect() as conn:
            second = conn.execute(text("SELECT CONNECTION_ID()")).scalar_one()
        assert second != first
    finally:
        engine.dispose()
