"""B12: request bodies above the limit get 413, and the service reads no further than it must:
a declared Content-Length above the limit is refused before the body, a chunked body without
one is not read past the limit. A body exactly at the limit is still served."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from booking_app.settings import BookingSettings
from tests.support.booking_instances import BookingInstance

LIMIT = int(BookingSettings.model_fields["max_body_bytes"].default)
MIB = 1024 * 1024


def raw_exchange(
    booking: BookingInstance, head: str, body_start: bytes
) -> tuple[int, dict[str, Any]]:
    """Send the request head and only the start of its body, then read the answer.

    The client never sends the rest: a service that waits for the whole body (or for the end of
    a chunked one) never answers, and the read times out."""
    address = urlsplit(booking.url)
    with socket.create_connection((address.hostname, address.port), timeout=60) as sock:
        sock.sendall(head.encode() + body_start)
        received = b""
        while b"\r\n\r\n" not in received:
            piece = sock.recv(65536)
            assert piece, f"the connection closed without an answer: {received!r}"
            received += piece
        header_block, _, body = received.partition(b"\r\n\r\n")
        lines = header_block.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        length = int(headers["Content-Length"])
        while len(body) < length:
            piece = sock.recv(65536)
            assert piece, "the connection closed in the middle of the answer"
            body += piece
    return int(lines[0].split()[1]), json.loads(body)


def charge_head(booking: BookingInstance, client: httpx.Client, user: str, framing: str) -> str:
    token = booking.user_token(client, user)
    return (
        f"POST /users/{user}/points/charge HTTP/1.1\r\n"
        f"Host: {urlsplit(booking.url).netloc}\r\n"
        f"X-Queue-Token: {token}\r\n"
        "Content-Type: application/json\r\n"
        f"{framing}\r\n"
    )


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def padded_charge(size: int) -> bytes:
    """A valid charge of 1 point, `size` bytes long (trailing JSON whitespace)."""
    body = json.dumps({"amount": 1}).encode()
    return body + b" " * (size - len(body))


def test_declared_body_above_the_limit_is_413_before_it_is_read(
    booking: BookingInstance,
) -> None:
    with booking.client() as client:
        head = charge_head(booking, client, "big-sender", f"Content-Length: {100 * MIB}\r\n")
        status, body = raw_exchange(booking, head, b'{"amount": 1' + b" " * 1000)
        assert (status, body["error"]) == (413, "body_too_large"), body
        assert str(LIMIT) in body["message"]
        assert booking.balance(client, "big-sender") == 0


def test_chunked_body_above_the_limit_is_413_without_reading_past_it(
    booking: BookingInstance,
) -> None:
    with booking.client() as client:
        head = charge_head(booking, client, "chunk-sender", "Transfer-Encoding: chunked\r\n")
        # A little more than the limit, and never the last chunk: reading to the end would wait.
        sent = padded_charge(LIMIT + 4096)
        body_start = b"".join(chunk(sent[i : i + 65536]) for i in range(0, len(sent), 65536))
        status, body = raw_exchange(booking, head, body_start)
        assert (status, body["error"]) == (413, "body_too_large"), body
        assert booking.balance(client, "chunk-sender") == 0


def test_malformed_chunked_body_is_400_with_a_sentence(booking: BookingInstance) -> None:
    with booking.client() as client:
        head = charge_head(booking, client, "bad-chunker", "Transfer-Encoding: chunked\r\n")
        status, body = raw_exchange(booking, head, b"zz\r\n{}\r\n0\r\n\r\n")
    assert (status, body["error"]) == (400, "invalid_request"), body
    assert "chunked" in body["message"]


def test_body_exactly_at_the_limit_is_served_with_and_without_content_length(
    booking: BookingInstance,
) -> None:
    user = "limit-sender"
    body = padded_charge(LIMIT)

    def chunked() -> Iterator[bytes]:
        for i in range(0, len(body), 65536):
            yield body[i : i + 65536]

    with booking.client() as client:
        headers = {**booking.as_user(client, user), "Content-Type": "application/json"}
        path = f"/users/{user}/points/charge"
        declared = client.post(path, headers=headers, content=body)
        assert declared.status_code == 200, declared.text
        streamed = client.post(path, headers=headers, content=chunked())
        assert streamed.status_code == 200, streamed.text
        assert booking.balance(client, user) == 2
