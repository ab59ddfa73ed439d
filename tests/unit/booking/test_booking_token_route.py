"""POST /queue/token answered in front of Flask (booking_app/token_route.py): every refusal the
Flask route gives, the bare route gives byte for byte, and everything else reaches Flask."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from werkzeug.test import Client, TestResponse

from booking_app import token_route
from booking_app.settings import load_settings
from booking_app.web import create_app
from instrumentation.settings import TelemetrySettings

TOO_DEEP = b"[" * 100_000


@pytest.fixture(scope="module")
def flask_app() -> Flask:
    return create_app()


@pytest.fixture(scope="module")
def front(flask_app: Flask) -> Client:
    return Client(
        token_route.in_front_of(flask_app, settings=TelemetrySettings(instrumentation="off"))
    )


def answers(flask_app: Flask, front: Client, **request: object) -> tuple[TestResponse, ...]:
    through_flask = flask_app.test_client().open("/queue/token", method="POST", **request)
    in_front = front.open("/queue/token", method="POST", **request)
    return through_flask, in_front


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'"id-1"',
        b"{}",
        b'{"userId": ""}',
        b'{"userId": "has space"}',
        b'{"userId": 12}',
        b'{"userId": "' + b"x" * 65 + b'"}',
        '{"userId": "caf\u00e9"}'.encode(),
        b"\xff\xfe{",
        TOO_DEEP,
    ],
)
def test_a_refused_body_gets_the_flask_routes_exact_answer(
    flask_app: Flask, front: Client, body: bytes
) -> None:
    through_flask, in_front = answers(flask_app, front, data=body)
    assert through_flask.status_code == 400
    assert in_front.status_code == through_flask.status_code
    assert in_front.data == through_flask.data
    assert in_front.headers["Content-Type"] == through_flask.headers["Content-Type"]
    assert json.loads(in_front.data)["error"] == "invalid_request"


def test_a_declared_body_above_the_limit_is_the_same_413_unread(
    flask_app: Flask, front: Client
) -> None:
    limit = load_settings().max_body_bytes
    big = b'{"userId": "' + b"a" * limit + b'"}'
    through_flask, in_front = answers(flask_app, front, data=big)
    assert (in_front.status_code, in_front.data) == (413, through_flask.data)
    assert json.loads(in_front.data)["error"] == "body_too_large"


def test_a_content_length_that_is_no_number_is_400_with_a_sentence() -> None:
    # gunicorn refuses such a header before the app; a WSGI server that does not gets a 400.
    status, _, body = token_route.issue_token_answer(
        {"CONTENT_LENGTH": "١٢", "REQUEST_METHOD": "POST", "PATH_INFO": "/queue/token"}
    )
    assert status == 400
    assert "Content-Length" in json.loads(body)["message"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/queue/token", 405),
        ("POST", "/queue/token/", 404),
        ("GET", "/health", 200),
        ("POST", "/no/such/route", 404),
    ],
)
def test_every_other_request_reaches_flask_unchanged(
    flask_app: Flask, front: Client, method: str, path: str, status: int
) -> None:
    in_front = front.open(path, method=method)
    through_flask = flask_app.test_client().open(path, method=method)
    assert in_front.status_code == through_flask.status_code == status
    assert in_front.data == through_flask.data
    assert in_front.headers.get("Allow") == through_flask.headers.get("Allow")
