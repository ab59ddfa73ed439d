"""Bad requests get a 4xx with a JSON sentence, never a 500 or a logged crash; the admin API
takes its bearer scheme in any case; a 405 says which methods the endpoint takes."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.booking_instances import SEAT_PRICE, BookingInstance


def assert_json_sentence(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json"), answer.headers
    body = answer.json()
    assert body["error"] == code, body
    assert body["message"].endswith("."), body


def log_size(booking: BookingInstance) -> int:
    """Where the instance's log ends now (the file outlives instances: read only what follows)."""
    return booking.process.log_file.stat().st_size


def assert_no_crash_logged(booking: BookingInstance, since: int, *names: str) -> None:
    with booking.process.log_file.open("rb") as log:
        log.seek(since)
        written = log.read().decode(errors="replace")
    for name in ("Traceback", "unhandled error", *names):
        assert name not in written, f"{name!r} in the instance's log:\n{written[-3000:]}"


def test_a_body_nested_100000_deep_is_400_not_a_recursion_crash(booking: BookingInstance) -> None:
    since = log_size(booking)
    with booking.client() as client:
        for _ in range(3):
            answer = client.post(
                "/queue/token", content=b"[" * 100_000, headers={"Content-Type": "application/json"}
            )
            assert_json_sentence(answer, 400, "invalid_request")
            assert "too deeply" in answer.json()["message"]
    assert_no_crash_logged(booking, since, "RecursionError")


@pytest.mark.parametrize("limit", ["%C2%B2", "%D9%A1", "%EF%BC%95", "1%C2%B2", "", "0", "101"])
def test_ranking_limit_that_is_not_an_ascii_number_from_1_to_100_is_400(
    booking: BookingInstance, limit: str
) -> None:
    # '²'.isdigit() is True (int() then fails: a 500); Arabic-Indic one (U+0661) and fullwidth
    # five (U+FF15) even parse as 1 and 5.
    with booking.client() as client:
        answer = client.get(f"/concerts/ranking?limit={limit}")
    assert_json_sentence(answer, 400, "invalid_request")
    assert "`limit`" in answer.json()["message"]


def test_ranking_limit_in_ascii_digits_still_works(booking: BookingInstance) -> None:
    with booking.client() as client:
        assert client.get("/concerts/ranking?limit=5").status_code == 200


def test_a_path_number_in_other_scripts_digits_is_no_seat(booking: BookingInstance) -> None:
    """werkzeug's `int` converter matches any Unicode digit: U+0661 (Arabic-Indic one) was
    seat 1."""
    with booking.client() as client:
        answer = client.patch(
            "/admin/schedules/schedule_1/seats/%D9%A1",
            headers=booking.admin_headers(),
            json={"price": SEAT_PRICE},
        )
    assert_json_sentence(answer, 404, "not_found")


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_admin_bearer_scheme_is_case_insensitive(booking: BookingInstance, scheme: str) -> None:
    with booking.client() as client:
        answer = client.patch(
            "/admin/schedules/schedule_1/seats/200",
            headers={"Authorization": f"{scheme} {booking.admin_token}"},
            json={"price": SEAT_PRICE},
        )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Basic {token}", "Bearer {token}x", "Bearer {short}", "{token}"],
)
def test_admin_api_refuses_anything_but_the_bearer_token(
    booking: BookingInstance, authorization: str
) -> None:
    value = authorization.format(token=booking.admin_token, short=booking.admin_token[:-1])
    with booking.client() as client:
        answer = client.patch(
            "/admin/schedules/schedule_1/seats/200",
            headers={"Authorization": value} if value else {},
            json={"price": 1},
        )
    assert_json_sentence(answer, 401, "unauthorized")


def test_405_names_the_methods_the_endpoint_takes(booking: BookingInstance) -> None:
    with booking.client() as client:
        answer = client.delete("/concerts")
        assert_json_sentence(answer, 405, "method_not_allowed")
        assert {m.strip() for m in answer.headers["Allow"].split(",")} >= {"GET", "HEAD"}
        answer = client.get("/payments")
        assert_json_sentence(answer, 405, "method_not_allowed")
        assert "POST" in answer.headers["Allow"]


def raw_exchange(booking: BookingInstance, request: bytes) -> httpx.Response:
    """Send bytes as they are (a client library would refuse some) and parse the answer."""
    address = urlsplit(booking.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return httpx.Response(int(status_line.split(" ")[1]), headers=headers, content=body)


def test_a_too_long_request_line_is_414_in_json(booking: BookingInstance) -> None:
    path = "/concerts?padding=" + "a" * 5000
    answer = raw_exchange(booking, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert_json_sentence(answer, 414, "uri_too_long")
    assert "4094 bytes" in answer.json()["message"]


def test_too_many_header_fields_is_431_in_json(booking: BookingInstance) -> None:
    fields = "".join(f"X-Filler-{i}: {i}\r\n" for i in range(150))
    answer = raw_exchange(booking, f"GET /health HTTP/1.1\r\nHost: x\r\n{fields}\r\n".encode())
    assert_json_sentence(answer, 431, "header_fields_too_large")


def test_a_too_large_header_field_is_431_in_json(booking: BookingInstance) -> None:
    since = log_size(booking)
    big = "b" * 9000
    answer = raw_exchange(
        booking, f"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n".encode()
    )
    assert_json_sentence(answer, 431, "header_fields_too_large")
    assert_no_crash_logged(booking, since)
