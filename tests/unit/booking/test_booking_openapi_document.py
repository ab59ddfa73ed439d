"""The OpenAPI document against the code: every Flask route is in it with the same methods and
nothing else is, and each operation documents exactly the errors its handler can answer."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from booking_app.openapi import openapi_document, openapi_path, operation_of
from booking_app.validation import MAX_POINTS_CHARGE, MAX_SEAT_NO
from booking_app.web import create_app

ERROR = {"$ref": "#/components/schemas/Error"}
# Every request may get these from the gunicorn worker, before Flask (gunicorn_worker.py).
REFUSED_BY_GUNICORN = {414, 431}
# Spelled out from the handlers and the domain code they call (400 invalid body or query, 401
# admin token, 402 points, 403 queue token, 404 unknown resource or token, 409 conflicts, 413
# body limit, 503 a dependency down): the generator must not add or drop any.
ERRORS = {
    ("/health", "get"): set(),
    ("/ready", "get"): set(),  # its 503 answers the readiness body, not an error
    ("/openapi.json", "get"): set(),
    ("/queue/token", "post"): {400, 409, 413, 503},
    ("/queue/status", "get"): {400, 404, 503},
    ("/concerts", "get"): {503},
    ("/concerts/ranking", "get"): {400, 503},
    ("/concerts/{concertId}/schedules", "get"): {404, 503},
    ("/concerts/schedules/{scheduleId}/seats", "get"): {404, 503},
    ("/reservations", "post"): {400, 403, 404, 409, 413, 503},
    ("/reservations/{reservationId}", "get"): {403, 404, 503},
    ("/users/{userId}/points", "get"): {403, 404, 503},
    ("/users/{userId}/points/charge", "post"): {400, 403, 404, 413, 503},
    ("/payments", "post"): {400, 402, 403, 404, 409, 413, 503},
    ("/admin/schedules/{scheduleId}", "patch"): {400, 401, 404, 413, 503},
    ("/admin/schedules/{scheduleId}/seats/{seatNo}", "patch"): {400, 401, 404, 413, 503},
}


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app()


@pytest.fixture(scope="module")
def document(app: Flask) -> dict[str, Any]:
    with app.app_context():
        return openapi_document(app)


def served(app: Flask) -> set[tuple[str, str]]:
    return {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def test_every_route_declares_its_operation(app: Flask) -> None:
    undocumented = [
        rule.rule for rule in app.url_map.iter_rules() if operation_of(app, rule.endpoint) is None
    ]
    assert undocumented == []


def test_document_and_routes_match(app: Flask, document: dict[str, Any]) -> None:
    documented = {
        (path, method) for path, operations in document["paths"].items() for method in operations
    }
    assert documented == served(app)
    assert set(ERRORS) == documented


@pytest.mark.parametrize(("path", "method"), sorted(ERRORS))
def test_every_operation_documents_the_errors_it_answers(
    document: dict[str, Any], path: str, method: str
) -> None:
    responses = document["paths"][path][method]["responses"]
    errors = {
        int(status)
        for status, answer in responses.items()
        if answer["content"]["application/json"]["schema"] == ERROR
    }
    assert errors == ERRORS[path, method] | REFUSED_BY_GUNICORN


def test_limits_come_from_the_validating_constants(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ReservationRequest"]["properties"]["seatNo"]["maximum"] == MAX_SEAT_NO
    assert schemas["PaymentRequest"]["properties"]["amount"]["maximum"] == MAX_POINTS_CHARGE
    assert schemas["ReservationRequest"]["required"] == ["userId", "scheduleId", "seatNo"]
    assert schemas["ScheduleChange"].get("required", []) == []
