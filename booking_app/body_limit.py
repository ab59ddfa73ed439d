"""The request body limit (B12): a body above `max_body_bytes` is refused with 413, unread.

A declared Content-Length above the limit is refused before a byte of the body is read. A body
without one (chunked) is read up to one byte past the limit: that byte says it is too large, and
nothing further is read. Gunicorn then drains at most 64 KiB of what is left and closes the
connection, so a client streaming gigabytes costs the service a bounded amount of work.
"""

from __future__ import annotations

import io
from typing import Any

from flask import request
from gunicorn.http.errors import ParseException  # type: ignore[import-untyped]

from booking_app.errors import BodyTooLarge, InvalidRequest


def too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(
        f"The request body is larger than this service accepts ({limit} bytes). "
        "Send a smaller body; every request of this API fits in a few hundred bytes."
    )


def refuse_large_body() -> None:
    """Before any handler: 413 above the limit; a chunked body within it is kept in memory."""
    limit = request.max_content_length
    if limit is None:
        return
    declared = request.content_length
    if declared is not None:
        if declared > limit:
            raise too_large(limit)
        return
    if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return
    request.environ["wsgi.input"] = io.BytesIO(read_chunked(request.environ, limit))


def read_chunked(environ: dict[str, Any], limit: int) -> bytes:
    """A chunked body of at most `limit` bytes (gunicorn decodes the chunks and ends the stream
    at the last one: wsgi.input_terminated)."""
    try:
        body: bytes = environ["wsgi.input"].read(limit + 1)
    except (ParseException, OSError):
        raise InvalidRequest(
            "The chunked request body is malformed or ended early. Send it again whole, "
            "or with a Content-Length."
        ) from None
    if len(body) > limit:
        raise too_large(limit)
    return body


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The body of a request answered outside Flask, under the same rules as the hook above
    (a declared length it cannot be valid with is refused by gunicorn before this)."""
    declared = environ.get("CONTENT_LENGTH")
    if declared:
        if not declared.isascii() or not declared.isdigit():
            raise InvalidRequest("The Content-Length header must be a whole number of bytes.")
        if int(declared) > limit:
            raise too_large(limit)
        return environ["wsgi.input"].read(int(declared))  # type: ignore[no-any-return]
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return read_chunked(environ, limit)
    return b""
