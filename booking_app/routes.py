"""The booking API's routes (Flask blueprint): thin handlers that validate input with
`validation.py`, call the domain modules and declare their OpenAPI operation beside the route."""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import TypeAdapter

from booking_app import (
    answers,
    concerts,
    payments,
    points,
    queue_identity,
    ranking,
    reservations,
    validation,
    waiting_queue,
)
from booking_app.errors import (
    ApiError,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    PaymentRequired,
    Unavailable,
)
from booking_app.openapi import Answer, Header, Operation, documented, openapi_document
from booking_app.readiness import KafkaCheck, readiness
from booking_app.services import services

api = Blueprint("booking", __name__)
TOKEN_HEADER = "X-Queue-Token"  # noqa: S105 - a header name, not a secret
IDEMPOTENCY_HEADER = "Idempotency-Key"
TRUE_OR_FALSE = {"type": "string", "enum": ["true", "false"]}
CACHE_HEADER = Header("X-Cache-Hit", "whether Redis answered", schema=TRUE_OR_FALSE)
TOKEN_OF_USER = Header(TOKEN_HEADER, "a live (WAITING or ACTIVE) queue token of the data's user")
ACTIVE_TOKEN = Header(TOKEN_HEADER, "the user's ACTIVE queue token")


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
@documented(Operation("Liveness: the process answers", (Answer(200, answers.Status, "alive"),)))
def health() -> Response:
    return jsonify({"status": "ok"})


@api.get("/ready")
@documented(
    Operation(
        "Readiness, naming each dependency's state",
        (
            Answer(200, answers.Readiness, "ready (maybe degraded)"),
            Answer(503, answers.Readiness, "not ready"),
        ),
    )
)
def ready() -> tuple[Response, int]:
    body, status = readiness(services(), kafka_check())
    return jsonify(body), status


@api.get("/openapi.json")
@documented(
    Operation("This document", (Answer(200, answers.OpenApiDocument, "the OpenAPI document"),))
)
def openapi() -> Response:
    return jsonify(openapi_document(current_app))


# --- queue (B1) ---------------------------------------------------------------------------
@api.post("/queue/token")
@documented(
    Operation(
        "Get a queue token: the user's identity, given once (409 while the user holds a live one)",
        (Answer(201, answers.Token, "the token"),),
        (InvalidRequest, Conflict, Unavailable),
        body=validation.TokenRequest,
    )
)
def issue_token(body: validation.TokenRequest) -> tuple[Response, int]:
    return jsonify(waiting_queue.issue_token(services(), body.user_id).as_json()), 201


@api.get("/queue/status")
@documented(
    Operation(
        "A token's status and place in the queue; polling keeps a WAITING token alive (it "
        "expires BOOKING_WAITING_TOKEN_TTL_SECONDS after its last poll)",
        (Answer(200, answers.QueueStatus, "status"),),
        (ApiError, NotFound, Unavailable),
        headers=(Header(TOKEN_HEADER, "the token to look at"),),
    )
)
def queue_status() -> Response:
    token = caller_token()
    if token is None:
        raise ApiError("Send your queue token in the X-Queue-Token header.")
    view = waiting_queue.poll_status(services(), token)
    return jsonify({"status": view.status, "position": view.position})


# --- concerts (B2) ------------------------------------------------------------------------
@api.get("/concerts")
@documented(
    Operation(
        "All concerts (cached)",
        (Answer(200, answers.Concerts, "concerts", (CACHE_HEADER,)),),
        (Unavailable,),
    )
)
def list_concerts() -> Response:
    return cached(*concerts.list_concerts(services()))


@api.get("/concerts/ranking")
@documented(
    Operation(
        "Concerts by confirmed bookings (Redis; the database while Redis is down)",
        (Answer(200, answers.Ranking, "the ranking"),),
        (InvalidRequest, Unavailable),
        query=validation.RankingQuery,
    )
)
def concert_ranking(query: validation.RankingQuery) -> Response:
    return jsonify(ranking.top_concerts(services(), query.limit))


@api.get("/concerts/<concert_id>/schedules")
@documented(
    Operation(
        "A concert's schedules (cached)",
        (Answer(200, answers.Schedules, "schedules", (CACHE_HEADER,)),),
        (NotFound, Unavailable),
    )
)
def list_schedules(concert_id: str) -> Response:
    return cached(*concerts.list_schedules(services(), path_id(concert_id, "concert")))


@api.get("/concerts/schedules/<schedule_id>/seats")
@documented(
    Operation(
        "A schedule's seats (cached)",
        (Answer(200, answers.ScheduleSeats, "the schedule and its seats", (CACHE_HEADER,)),),
        (NotFound, Unavailable),
    )
)
def list_seats(schedule_id: str) -> Response:
    return cached(*concerts.list_seats(services(), path_id(schedule_id, "schedule")))


# --- reservations (B3) --------------------------------------------------------------------
@api.post("/reservations")
@documented(
    Operation(
        "Reserve a seat (needs the user's ACTIVE queue token)",
        (Answer(201, answers.Reservation, "the seat is held for you"),),
        (InvalidRequest, Forbidden, NotFound, Conflict, Unavailable),
        body=validation.ReservationRequest,
        headers=(ACTIVE_TOKEN,),
    )
)
def reserve(body: validation.ReservationRequest) -> tuple[Response, int]:
    svc = services()
    queue_identity.require_active(
        svc, caller_token(), body.user_id, "reserving a seat for this user"
    )
    reservation = reservations.reserve_seat(svc, body.user_id, body.schedule_id, body.seat_no)
    return jsonify(reservation), 201


@api.get("/reservations/<int:reservation_id>")
@documented(
    Operation(
        "One reservation (needs its user's token)",
        (Answer(200, answers.Reservation, "the reservation"),),
        (Forbidden, NotFound, Unavailable),
        headers=(TOKEN_OF_USER,),
    )
)
def get_reservation(reservation_id: int) -> Response:
    reservation_id = path_number(reservation_id, "reservation")
    svc = services()
    caller = queue_identity.identify(svc, caller_token())
    reservation = reservations.get_reservation(svc, reservation_id)
    queue_identity.ensure_owner(caller, reservation["userId"], "reading this reservation")
    return jsonify(reservation)


# --- points (B4) and payments (B5) --------------------------------------------------------
@api.get("/users/<user_id>/points")
@documented(
    Operation(
        "A user's point balance (needs that user's token)",
        (Answer(200, answers.Points, "the balance"),),
        (Forbidden, NotFound, Unavailable),
        headers=(TOKEN_OF_USER,),
    )
)
def get_points(user_id: str) -> Response:
    user_id = path_id(user_id, "user")
    svc = services()
    queue_identity.require_user(svc, caller_token(), user_id, "reading this user's points")
    return jsonify(points.balance(svc, user_id))


@api.post("/users/<user_id>/points/charge")
@documented(
    Operation(
        "Add points (needs that user's token)",
        (Answer(200, answers.Points, "the new balance"),),
        (InvalidRequest, Forbidden, NotFound, Unavailable),
        body=validation.ChargeRequest,
        headers=(TOKEN_OF_USER,),
    )
)
def charge_points(user_id: str, body: validation.ChargeRequest) -> Response:
    user_id = path_id(user_id, "user")
    svc = services()
    queue_identity.require_user(svc, caller_token(), user_id, "charging this user's points")
    return jsonify(points.charge(svc, user_id, body.amount))


@api.post("/payments")
@documented(
    Operation(
        "Pay a reservation with points (needs its user's ACTIVE token; a retry takes the same "
        "token in any state); retries never charge twice",
        (
            Answer(
                201,
                answers.Payment,
                "paid (or the replay of the same payment)",
                (Header("Idempotent-Replayed", "whether this is a replay", schema=TRUE_OR_FALSE),),
            ),
        ),
        (InvalidRequest, PaymentRequired, Forbidden, NotFound, Conflict, Unavailable),
        body=validation.PaymentRequest,
        headers=(
            Header(TOKEN_HEADER, "the reservation's user's queue token"),
            Header(
                IDEMPOTENCY_HEADER,
                "the same key on a retry answers the first payment again",
                required=False,
                schema=TypeAdapter(validation.ResourceId).json_schema(),
            ),
        ),
    )
)
def pay(body: validation.PaymentRequest) -> tuple[Response, int]:
    key = request.headers.get(IDEMPOTENCY_HEADER) or None
    if key is not None and not validation.ID_PATTERN.fullmatch(key):
        raise ApiError("`Idempotency-Key` must be 1 to 64 letters, digits or _ . : @ -.")
    svc = services()
    # Any state: a retry may come after the first payment expired the token (payments.pay).
    token = queue_identity.identify(svc, caller_token(), live=False)
    payment, replayed = payments.pay(svc, token, body.reservation_id, body.amount, key)
    response = jsonify(payment)
    response.headers["Idempotent-Replayed"] = "true" if replayed else "false"
    return response, 201
