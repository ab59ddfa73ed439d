"""What the API answers, as pydantic models: the response schemas of the OpenAPI document.

The handlers build plain dicts (the domain modules return them); schemathesis checks the real
answers against these models through the document (tests/integration/booking/
test_booking_openapi.py), so a field renamed on one side only fails there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, RootModel

from booking_app.validation import API_FIELDS, BigintId, ResourceId

TokenStatus = Literal["WAITING", "ACTIVE", "EXPIRED"]


class Answer(BaseModel):
    model_config = API_FIELDS


class Error(Answer):
    """Every 4xx and 5xx of the service: a stable code and a sentence saying what to do next."""

    error: str
    message: str


class Status(Answer):
    status: str


class Dependency(Answer):
    status: str


class Readiness(Answer):
    status: Literal["ready", "degraded", "unavailable"]
    dependencies: dict[str, Dependency]
    checked_in_seconds: float


class OpenApiDocument(RootModel[dict[str, Any]]):
    """This document."""


class QueueStatus(Answer):
    status: TokenStatus
    position: int = Field(ge=0)


class Token(QueueStatus):
    token_value: str


class Concert(Answer):
    concert_id: ResourceId
    title: str
    artist: str


class Concerts(Answer):
    concerts: list[Concert]


class RankedConcert(Answer):
    rank: int
    concert_id: str
    title: str
    bookings: int


class Ranking(Answer):
    source: Literal["redis", "database"]
    ranking: list[RankedConcert]


class Schedule(Answer):
    schedule_id: ResourceId
    concert_id: ResourceId
    starts_at: datetime
    venue: str


class Schedules(Answer):
    concert_id: ResourceId
    schedules: list[Schedule]


class Seat(Answer):
    seat_no: int
    price: int
    status: Literal["AVAILABLE", "HELD", "SOLD"]


class ScheduleSeats(Schedule):
    seats: list[Seat]


class PricedSeat(Answer):
    schedule_id: ResourceId
    seat_no: int
    price: int
    status: str


class Reservation(Answer):
    reservation_id: BigintId
    user_id: ResourceId
    concert_id: ResourceId
    schedule_id: ResourceId
    seat_no: int
    price: int
    status: Literal["HELD", "CONFIRMED", "EXPIRED"]
    expires_at: datetime


class Payment(Answer):
    payment_id: BigintId
    reservation_id: BigintId
    user_id: ResourceId
    amount: int
    status: Literal["SUCCESS"]
    seat_no: int
    schedule_id: ResourceId
    paid_at: datetime


class Points(Answer):
    user_id: ResourceId
    balance: int = Field(ge=0)
