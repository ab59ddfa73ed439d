"""The admin API (B2's write-through): changes to schedules and seats that evict the cached
reads; every call needs `Authorization: Bearer <BOOKING_ADMIN_TOKEN>`."""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request

from booking_app import answers, concerts, validation
from booking_app.errors import ApiError, InvalidRequest, NotFound, Unauthorized, Unavailable
from booking_app.openapi import Answer, Operation, documented
from booking_app.routes import path_id
from booking_app.services import services

admin = Blueprint("admin", __name__)


@admin.before_request
def require_admin() -> None:
    """Before anything else of an admin request (its body is read after)."""
    expected = services().settings.admin_token.get_secret_value()
    # The scheme is case-insensitive (RFC 9110 11.1): `bearer x` is as good as `Bearer x`.
    scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.strip().encode(), expected.encode())
    ):
        raise Unauthorized(
            "The admin API needs `Authorization: Bearer <admin token>` "
            "(the token is BOOKING_ADMIN_TOKEN)."
        )


@admin.patch("/admin/schedules/<schedule_id>")
@documented(
    Operation(
        "Change a schedule; evicts its cached reads",
        (Answer(200, answers.Schedule, "the schedule"),),
        (InvalidRequest, NotFound, Unavailable),
        body=validation.ScheduleChange,
        admin=True,
    )
)
def update_schedule(schedule_id: str, body: validation.ScheduleChange) -> Response:
    if body.venue is None and body.starts_at is None:
        raise ApiError("Send at least one of `venue` and `startsAt`.")
    schedule_id = path_id(schedule_id, "schedule")
    schedule = concerts.update_schedule(services(), schedule_id, body.venue, body.starts_at)
    return jsonify(schedule)


@admin.patch("/admin/schedules/<schedule_id>/seats/<int:seat_no>")
@documented(
    Operation(
        "Change a seat's price; evicts the cached seat list",
        (Answer(200, answers.PricedSeat, "the seat"),),
        (InvalidRequest, NotFound, Unavailable),
        body=validation.SeatPriceChange,
        admin=True,
    )
)
def update_seat(schedule_id: str, seat_no: int, body: validation.SeatPriceChange) -> Response:
    schedule_id = path_id(schedule_id, "schedule")
    if not 1 <= seat_no <= validation.MAX_SEAT_NO:
        raise NotFound(f"Schedule {schedule_id!r} has no seat {seat_no}.")
    return jsonify(concerts.update_seat_price(services(), schedule_id, seat_no, body.price))
