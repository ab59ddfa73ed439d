"""The HTTP API (Flask): thin handlers that validate input and call the domain modules."""

from __future__ import annotations

import hmac
import logging
from functools import cache
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from booking_app import (
    body_limit,
    concerts,
    payments,
    points,
    ranking,
    reservations,
    validation,
    waiting_queue,
)
from booking_app.errors import ApiError, NotFound, Unauthorized, Unavailable
from booking_app.openapi import openapi_document
from booking_app.readiness import KafkaCheck, readiness
from booking_app.services import services
from booking_app.settings import load_settings

log = logging.getLogger("booking_app.web")
api = Blueprint("booking", __name__)
TOKEN_HEADER = "X-Queue-Token"  # noqa: S105 - a header name, not a secret
MAX_POINTS_CHARGE = 100_000_000
MAX_SEAT_NO = 100_000


def cached(body: dict[str, Any], hit: bool) -> Response:
    response = jsonify(body)
    response.headers["X-Cache-Hit"] = "true" if hit else "false"
    return response


def path_id(value: str, what: str) -> str:
    if not validation.ID_PATTERN.fullmatch(value):
        raise NotFound(f"There is no {what} {value!r}.")
    return value


def path_number(value: int, what: str) -> int:
    if not 1 <= value <= validation.MAX_BIGINT:
        raise NotFound(f"There is no {what} {value}.")
    return value


def caller_token() -> str | None:
    return request.headers.get(TOKEN_HEADER) or None


@cache
def kafka_check() -> KafkaCheck:
    return KafkaCheck(services().settings.kafka_bootstrap)


# --- health -------------------------------------------------------------------------------
@api.get("/health")
def health() -> Response:
    return jsonify({"status": "ok"})


@api.get("/ready")
def ready() -> tuple[Response, int]:
    body, status = readiness(services(), kafka_check())
    return jsonify(body), status


@api.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


# --- queue (B1) ---------------------------------------------------------------------------
@api.post("/queue/token")
def issue_token() -> tuple[Response, int]:
    user_id = validation.identifier(validation.json_object(request), "userId")
    return jsonify(waiting_queue.issue_token(services(), user_id).as_json()), 201


@api.get("/queue/status")
def queue_status() -> Response:
    token = caller_token()
    if token is None:
        raise ApiError("Send your queue token in the X-Queue-Token header.")
    view = waiting_queue.poll_status(services(), token)
    return jsonify({"status": view.status, "position": view.position})


# --- concerts (B2) ------------------------------------------------------------------------
@api.get("/concerts")
def list_concerts() -> Response:
    return cached(*concerts.list_concerts(services()))


@api.get("/concerts/ranking")
def concert_ranking() -> Response:
    limit = validation.query_integer(request.args, "limit", 10, 1, 100)
    return jsonify(ranking.top_concerts(services(), limit))


@api.get("/concerts/<concert_id>/schedules")
def list_schedules(concert_id: str) -> Response:
    return cached(*concerts.list_schedules(services(), path_id(concert_id, "concert")))


@api.get("/concerts/schedules/<schedule_id>/seats")
def list_seats(schedule_id: str) -> Response:
    return cached(*concerts.list_seats(services(), path_id(schedule_id, "schedule")))


# --- reservations (B3) --------------------------------------------------------------------
@api.post("/reservations")
def reserve() -> tuple[Response, int]:
    body = validation.json_object(request)
    user_id = validation.identifier(body, "userId")
    schedule_id = validation.identifier(body, "scheduleId")
    seat_no = validation.integer(body, "seatNo", 1, MAX_SEAT_NO)
    svc = services()
    waiting_queue.require_active(svc, caller_token(), user_id, "reserving a seat for this user")
    return jsonify(reservations.reserve_seat(svc, user_id, schedule_id, seat_no)), 201


@api.get("/reservations/<int:reservation_id>")
def get_reservation(reservation_id: int) -> Response:
    reservation_id = path_number(reservation_id, "reservation")
    svc = services()
    caller = waiting_queue.identify(svc, caller_token())
    reservation = reservations.get_reservation(svc, reservation_id)
    waiting_queue.ensure_owner(caller, reservation["userId"], "reading this reservation")
    return jsonify(reservation)


# --- points (B4) and payments (B5) --------------------------------------------------------
@api.get("/users/<user_id>/points")
def get_points(user_id: str) -> Response:
    user_id = path_id(user_id, "user")
    svc = services()
    waiting_queue.require_user(svc, caller_token(), user_id, "reading this user's points")
    return jsonify(points.balance(svc, user_id))


@api.post("/users/<user_id>/points/charge")
def charge_points(user_id: str) -> Response:
    user_id = path_id(user_id, "user")
    amount = validation.integer(validation.json_object(request), "amount", 1, MAX_POINTS_CHARGE)
    svc = services()
    waiting_queue.require_user(svc, caller_token(), user_id, "charging this user's points")
    return jsonify(points.charge(svc, user_id, amount))


@api.post("/payments")
def pay() -> tuple[Response, int]:
    body = validation.json_object(request)
    reservation_id = validation.integer(body, "reservationId", 1, validation.MAX_BIGINT)
    amount = validation.integer(body, "amount", 1, MAX_POINTS_CHARGE)
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and not validation.ID_PATTERN.fullmatch(key):
        raise ApiError("`Idempotency-Key` must be 1 to 64 letters, digits or _ . : @ -.")
    svc = services()
    # Any state: a retry may come after the first payment expired the token (payments.pay).
    token = waiting_queue.identify(svc, caller_token(), live=False)
    payment, replayed = payments.pay(svc, token, reservation_id, amount, key)
    response = jsonify(payment)
    response.headers["Idempotent-Replayed"] = "true" if replayed else "false"
    return response, 201


# --- admin (B2 write-through) -------------------------------------------------------------
def require_admin() -> None:
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


@api.patch("/admin/schedules/<schedule_id>")
def update_schedule(schedule_id: str) -> Response:
    require_admin()
    body = validation.json_object(request)
    venue = validation.optional_text(body, "venue", 200)
    starts_at = validation.optional_datetime(body, "startsAt")
    if venue is None and starts_at is None:
        raise ApiError("Send at least one of `venue` and `startsAt`.")
    schedule_id = path_id(schedule_id, "schedule")
    return jsonify(concerts.update_schedule(services(), schedule_id, venue, starts_at))


@api.patch("/admin/schedules/<schedule_id>/seats/<int:seat_no>")
def update_seat(schedule_id: str, seat_no: int) -> Response:
    require_admin()
    price = validation.integer(validation.json_object(request), "price", 1, MAX_POINTS_CHARGE)
    schedule_id = path_id(schedule_id, "schedule")
    if not 1 <= seat_no <= MAX_SEAT_NO:
        raise NotFound(f"Schedule {schedule_id!r} has no seat {seat_no}.")
    return jsonify(concerts.update_seat_price(services(), schedule_id, seat_no, price))


# --- errors: always a JSON sentence, never a stack trace -----------------------------------
def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    response = jsonify({"error": code, "message": message})
    if status == 503:
        response.headers["Retry-After"] = "1"
    return response, status


def handle_api_error(error: ApiError) -> tuple[Response, int]:
    return error_response(error.status, error.code, error.message)


def handle_http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    messages = {
        404: "There is no such endpoint. GET /openapi.json lists them.",
        405: "This endpoint does not take that method. GET /openapi.json lists the methods.",
    }
    message = messages.get(status, error.description or "The request was not understood.")
    response, status = error_response(
        status, (error.name or "error").lower().replace(" ", "_"), message
    )
    # What the error itself says in headers stays: a 405 names the methods it takes (`Allow`).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


def handle_database_error(error: sa_exc.OperationalError) -> tuple[Response, int]:
    log.error(
        "database unavailable",
        extra={"event": "database.unavailable", "error.type": type(error.orig).__name__},
    )
    unavailable = Unavailable("The database is not reachable right now. Retry in a moment.")
    return error_response(503, "database_unavailable", unavailable.message)


def handle_unexpected(error: Exception) -> tuple[Response, int]:
    log.exception("unhandled error", extra={"event": "http.request.failed"})
    return error_response(
        500, "internal_error", "Something went wrong on our side. It is logged; retry later."
    )


class WholeNumberConverter(BaseConverter):
    """`<int:...>` with ASCII digits only: werkzeug's own matches `\\d`, so `/reservations/١٢`
    would be reservation 12."""

    regex = r"[0-9]{1,19}"
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def create_app() -> Flask:
    app = Flask("booking_app", static_folder=None)
    app.url_map.converters["int"] = WholeNumberConverter
    # Werkzeug's own guard too, for any body read before (or without) the hook below.
    app.config["MAX_CONTENT_LENGTH"] = load_settings().max_body_bytes
    app.before_request(body_limit.refuse_large_body)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.register_blueprint(api)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(sa_exc.OperationalError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
    return app
