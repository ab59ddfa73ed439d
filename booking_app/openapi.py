"""The OpenAPI 3.0 document of every endpoint, served at `/openapi.json`.

Written by hand, as data: Flask has no schema of its own, and generating one would mean a second
validation framework (marshmallow or pydantic models via flask-smorest/spectree) beside the small
validators the handlers use. A unit test keeps this document and the Flask routes in step, and
schemathesis checks the real answers against it.
"""

from __future__ import annotations

from typing import Any

ID = {"type": "string", "pattern": "^[A-Za-z0-9_.:@-]{1,64}$", "example": "user_1"}
POSITIVE_BIGINT = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "the request is malformed; the message names the field",
        401: "the admin token is missing or wrong",
        402: "not enough points",
        403: "no queue token, an unknown or expired one, another user's, or (to reserve or "
        "pay) one that is not ACTIVE",
        404: "no such resource",
        409: "conflict: the seat is taken, the reservation cannot be paid, or the user already "
        "holds a live queue token",
        413: "the request body is larger than the service accepts (BOOKING_MAX_BODY_BYTES, "
        "1 MiB by default)",
        503: "a dependency is unavailable or the database pool is exhausted; retry",
    }
    return {str(s): _json(ERROR, texts[s]) for s in (*statuses, 503)}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    schema["required"] = required if required is not None else list(properties)
    return schema


def _path(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _header(name: str, required: bool, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": required,
        "schema": schema or {"type": "string"},
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _token(purpose: str) -> dict[str, Any]:
    """X-Queue-Token: the caller's identity (B12)."""
    return {**_header("X-Queue-Token", True), "description": purpose}


# gunicorn itself refuses a request line over its limit, before the app (and in HTML).
TOO_LONG = {
    "description": "the query string is longer than the server accepts",
    "content": {"text/html": {"schema": {"type": "string"}}},
}
CACHE_HEADER = {
    "X-Cache-Hit": {
        "description": "whether Redis answered",
        "schema": {"type": "string", "enum": ["true", "false"]},
    }
}
TOKEN_OF_USER = _token("a live (WAITING or ACTIVE) queue token of the user the data belongs to")
ACTIVE_TOKEN = _token("the user's ACTIVE queue token")
DATE_TIME = {"type": "string", "format": "date-time"}

SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": {"type": "string"}, "message": {"type": "string"}}),
    "Token": _object(
        {
            "tokenValue": {"type": "string"},
            "status": {"type": "string", "enum": ["WAITING", "ACTIVE", "EXPIRED"]},
            "position": {"type": "integer", "minimum": 0},
        }
    ),
    "Schedule": _object(
        {"scheduleId": ID, "concertId": ID, "startsAt": DATE_TIME, "venue": {"type": "string"}}
    ),
    "Seat": _object(
        {
            "seatNo": {"type": "integer"},
            "price": {"type": "integer"},
            "status": {"type": "string", "enum": ["AVAILABLE", "HELD", "SOLD"]},
        }
    ),
    "Reservation": _object(
        {
            "reservationId": POSITIVE_BIGINT,
            "userId": ID,
            "concertId": ID,
            "scheduleId": ID,
            "seatNo": {"type": "integer"},
            "price": {"type": "integer"},
            "status": {"type": "string", "enum": ["HELD", "CONFIRMED", "EXPIRED"]},
            "expiresAt": DATE_TIME,
        }
    ),
    "Payment": _object(
        {
            "paymentId": POSITIVE_BIGINT,
            "reservationId": POSITIVE_BIGINT,
            "userId": ID,
            "amount": {"type": "integer"},
            "status": {"type": "string", "enum": ["SUCCESS"]},
            "seatNo": {"type": "integer"},
            "scheduleId": ID,
            "paidAt": DATE_TIME,
        }
    ),
    "Points": _object({"userId": ID, "balance": {"type": "integer", "minimum": 0}}),
    "Dependency": {
        "type": "object",
        "properties": {"status": {"type": "string"}},
        "required": ["status"],
    },
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


PATHS: dict[str, Any] = {
    "/health": {
        "get": {
            "summary": "Liveness: the process answers",
            "responses": {"200": _json(_object({"status": {"type": "string"}}), "alive")},
        }
    },
    "/ready": {
        "get": {
            "summary": "Readiness, naming each dependency's state",
            "responses": {
                code: _json(
                    _object(
                        {
                            "status": {
                                "type": "string",
                                "enum": ["ready", "degraded", "unavailable"],
                            },
                            "dependencies": {
                                "type": "object",
                                "additionalProperties": _ref("Dependency"),
                            },
                            "checkedInSeconds": {"type": "number"},
                        }
                    ),
                    text,
                )
                for code, text in (("200", "ready (maybe degraded)"), ("503", "not ready"))
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {"200": _json({"type": "object"}, "the OpenAPI document")},
        }
    },
    "/queue/token": {
        "post": {
            "summary": "Get a queue token: the user's identity, given once (409 while the "
            "user holds a live one)",
            "requestBody": _body(_object({"userId": ID})),
            "responses": {"201": _json(_ref("Token"), "the token"), **_errors(400, 409, 413)},
        }
    },
    "/queue/status": {
        "get": {
            "summary": "A token's status and place in the queue; polling keeps a WAITING "
            "token alive (it expires BOOKING_WAITING_TOKEN_TTL_SECONDS after its last poll)",
            "parameters": [_token("the token to look at")],
            "responses": {
                "200": _json(
                    _object(
                        {
                            "status": {"type": "string", "enum": ["WAITING", "ACTIVE", "EXPIRED"]},
                            "position": {"type": "integer", "minimum": 0},
                        }
                    ),
                    "status",
                ),
                **_errors(400, 404),
            },
        }
    },
    "/concerts": {
        "get": {
            "summary": "All concerts (cached)",
            "responses": {
                "200": {
                    **_json(
                        _object(
                            {
                                "concerts": {
                                    "type": "array",
                                    "items": _object(
                                        {
                                            "concertId": ID,
                                            "title": {"type": "string"},
                                            "artist": {"type": "string"},
                                        }
                                    ),
                                }
                            }
                        ),
                        "concerts",
                    ),
                    "headers": CACHE_HEADER,
                },
                **_errors(),
            },
        }
    },
    "/concerts/ranking": {
        "get": {
            "summary": "Concerts by confirmed bookings (Redis; the database while Redis is down)",
            "parameters": [
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                }
            ],
            "responses": {
                "200": _json(
                    _object(
                        {
                            "source": {"type": "string", "enum": ["redis", "database"]},
                            "ranking": {
                                "type": "array",
                                "items": _object(
                                    {
                                        "rank": {"type": "integer"},
                                        "concertId": {"type": "string"},
                                        "title": {"type": "string"},
                                        "bookings": {"type": "integer"},
                                    }
                                ),
                            },
                        }
                    ),
                    "the ranking",
                ),
                **_errors(400),
                "414": TOO_LONG,
            },
        }
    },
    "/concerts/{concertId}/schedules": {
        "get": {
            "summary": "A concert's schedules (cached)",
            "parameters": [_path("concertId", {"type": "string"})],
            "responses": {
                "200": {
                    **_json(
                        _object(
                            {
                                "concertId": ID,
                                "schedules": {"type": "array", "items": _ref("Schedule")},
                            }
                        ),
                        "schedules",
                    ),
                    "headers": CACHE_HEADER,
                },
                **_errors(404),
            },
        }
    },
    "/concerts/schedules/{scheduleId}/seats": {
        "get": {
            "summary": "A schedule's seats (cached)",
            "parameters": [_path("scheduleId", {"type": "string"})],
            "responses": {
                "200": {
                    **_json(
                        {
                            "allOf": [
                                _ref("Schedule"),
                                _object({"seats": {"type": "array", "items": _ref("Seat")}}),
                            ]
                        },
                        "the schedule and its seats",
                    ),
                    "headers": CACHE_HEADER,
                },
                **_errors(404),
            },
        }
    },
    "/reservations": {
        "post": {
            "summary": "Reserve a seat (needs the user's ACTIVE queue token)",
            "parameters": [ACTIVE_TOKEN],
            "requestBody": _body(
                _object(
                    {
                        "userId": ID,
                        "scheduleId": ID,
                        "seatNo": {"type": "integer", "minimum": 1, "maximum": 100000},
                    }
                )
            ),
            "responses": {
                "201": _json(_ref("Reservation"), "the seat is held for you"),
                **_errors(400, 403, 404, 409, 413),
            },
        }
    },
    "/reservations/{reservationId}": {
        "get": {
            "summary": "One reservation (needs its user's token)",
            "parameters": [
                _path("reservationId", {"type": "integer", "minimum": 1}),
                TOKEN_OF_USER,
            ],
            "responses": {
                "200": _json(_ref("Reservation"), "the reservation"),
                **_errors(403, 404),
            },
        }
    },
    "/users/{userId}/points": {
        "get": {
            "summary": "A user's point balance (needs that user's token)",
            "parameters": [_path("userId", ID), TOKEN_OF_USER],
            "responses": {"200": _json(_ref("Points"), "the balance"), **_errors(403, 404)},
        }
    },
    "/users/{userId}/points/charge": {
        "post": {
            "summary": "Add points (needs that user's token)",
            "parameters": [_path("userId", ID), TOKEN_OF_USER],
            "requestBody": _body(
                _object({"amount": {"type": "integer", "minimum": 1, "maximum": 100_000_000}})
            ),
            "responses": {
                "200": _json(_ref("Points"), "the new balance"),
                **_errors(400, 403, 404, 413),
            },
        }
    },
    "/payments": {
        "post": {
            "summary": "Pay a reservation with points (needs its user's ACTIVE token; a retry "
            "takes the same token in any state); retries never charge twice",
            "parameters": [
                _token("the reservation's user's queue token"),
                _header("Idempotency-Key", False, {"type": "string", "pattern": ID["pattern"]}),
            ],
            "requestBody": _body(
                _object(
                    {
                        "reservationId": POSITIVE_BIGINT,
                        "amount": {"type": "integer", "minimum": 1, "maximum": 100_000_000},
                    }
                )
            ),
            "responses": {
                "201": {
                    **_json(_ref("Payment"), "paid (or the replay of the same payment)"),
                    "headers": {
                        "Idempotent-Replayed": {
                            "schema": {"type": "string", "enum": ["true", "false"]}
                        }
                    },
                },
                **_errors(400, 402, 403, 404, 409, 413),
            },
        }
    },
    "/admin/schedules/{scheduleId}": {
        "patch": {
            "summary": "Change a schedule; evicts its cached reads",
            "security": [{"adminToken": []}],
            "parameters": [_path("scheduleId", {"type": "string"})],
            "requestBody": _body(
                _object(
                    {
                        "venue": {"type": "string", "minLength": 1, "maxLength": 200},
                        "startsAt": DATE_TIME,
                    },
                    required=[],
                )
            ),
            "responses": {
                "200": _json(_ref("Schedule"), "the schedule"),
                **_errors(400, 401, 404, 413),
            },
        }
    },
    "/admin/schedules/{scheduleId}/seats/{seatNo}": {
        "patch": {
            "summary": "Change a seat's price; evicts the cached seat list",
            "security": [{"adminToken": []}],
            "parameters": [
                _path("scheduleId", {"type": "string"}),
                _path("seatNo", {"type": "integer", "minimum": 1}),
            ],
            "requestBody": _body(
                _object({"price": {"type": "integer", "minimum": 1, "maximum": 100_000_000}})
            ),
            "responses": {
                "200": _json(
                    _object(
                        {
                            "scheduleId": ID,
                            "seatNo": {"type": "integer"},
                            "price": {"type": "integer"},
                            "status": {"type": "string"},
                        }
                    ),
                    "the seat",
                ),
                **_errors(400, 401, 404, 413),
            },
        }
    },
}


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Soundcheck booking service",
            "version": "1.0.0",
            "description": "Concert booking: queue, concerts, reservations, points, "
            "payments, ranking (SPEC B1-B12). The queue token (X-Queue-Token) is the caller's "
            "identity: a user's data, reservations, payments and point charges need that "
            "user's own token. Request bodies above 1 MiB (BOOKING_MAX_BODY_BYTES) get 413.",
        },
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
    }
