"""gunicorn's gthread worker, with JSON answers for the requests gunicorn refuses itself.

A request line longer than `limit_request_line`, too many or too large header fields, or a
request that is not valid HTTP never reaches Flask: gunicorn answers it with an HTML page. The
API promises `{"error": code, "message": sentence}` for every 4xx, so this worker writes that.
"""

from __future__ import annotations

import json
from typing import Any

# gunicorn ships no type hints (types-gunicorn would be a dependency for one module).
from gunicorn import util  # type: ignore[import-untyped]
from gunicorn.http.errors import (  # type: ignore[import-untyped]
    ConfigurationProblem,
    ExpectationFailed,
    ForbiddenProxyRequest,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
    UnsupportedTransferCoding,
)
from gunicorn.workers.gthread import ThreadWorker  # type: ignore[import-untyped]

# Parse errors that are the server's fault: gunicorn's own 500 handling (and log) stays.
SERVER_FAULTS = (ConfigurationProblem, InvalidResponseHeader, InvalidResponseHeaderName)


def refusal(error: ParseException, cfg: Any) -> tuple[int, str, str, str]:
    """(status, reason phrase, error code, sentence) for a request gunicorn could not take."""
    if isinstance(error, LimitRequestLine):
        return (
            414,
            "URI Too Long",
            "uri_too_long",
            f"The request line is longer than {cfg.limit_request_line} bytes. Send a shorter URL.",
        )
    if isinstance(error, LimitRequestHeaders):
        return (
            431,
            "Request Header Fields Too Large",
            "header_fields_too_large",
            f"A request may have at most {cfg.limit_request_fields} header fields of at most "
            f"{cfg.limit_request_field_size} bytes each. Send fewer or shorter headers.",
        )
    if isinstance(error, ExpectationFailed):
        return 417, "Expectation Failed", "expectation_failed", "Only `Expect: 100-continue` works."
    if isinstance(error, UnsupportedTransferCoding):
        return (
            501,
            "Not Implemented",
            "unsupported_transfer_coding",
            "Only the chunked transfer coding is supported.",
        )
    if isinstance(error, ForbiddenProxyRequest):
        return 403, "Forbidden", "forbidden", "Proxy requests are not accepted from this address."
    return (
        400,
        "Bad Request",
        "malformed_request",
        "The request is not valid HTTP/1.1 (request line, header names or framing).",
    )


def json_error_bytes(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps({"error": code, "message": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrorThreadWorker(ThreadWorker):  # type: ignore[misc]
    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if not isinstance(exc, ParseException) or isinstance(exc, SERVER_FAULTS):
            super().handle_error(req, client, addr, exc)
            return
        status, reason, code, message = refusal(exc, self.cfg)
        # A client's mistake, not ours: one warning, as gunicorn logs it, never a traceback.
        self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, json_error_bytes(status, reason, code, message))
        except OSError:
            self.log.debug("Failed to send error message.")
