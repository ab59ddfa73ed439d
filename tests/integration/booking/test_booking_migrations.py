"""The Alembic migrations build exactly the schema `booking_app/models.py` describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from booking_app.models import metadata
from tests.support.booking_instances import BookingInstance


def test_migrated_schema_matches_the_models(booking: BookingInstance) -> None:
    engine = create_engine(booking.env["BOOKING_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []
