"""The HTTP side: OTLP `/v1/traces`, Prometheus `/metrics`, and `/health` for the stack probe.

A plain ASGI app (no framework): three routes, and the body limit must be enforced while reading.
Answers follow OTLP/HTTP: 200 with an empty response in the request's encoding, 400 for a body
that is not OTLP (or a header that is not UTF-8 text), 413 when too large, 415 for other content
types, 503 with Retry-After when the buffer is full (the OTel SDK retries 503). Every refusal is a
JSON `google.rpc.Status` (`{"code", "message"}`) whose message is a sentence, and is counted.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pipeline import metrics
from pipeline.buffer import DiskBuffer
from pipeline.otlp import BadTraceRequest, decode_request, span_documents

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
VERSION = "1"


# google.rpc.Code of each refusal, for the Status body OTLP/HTTP asks for.
RPC_CODES = {400: 3, 404: 5, 413: 3, 415: 3, 503: 14}  # INVALID_ARGUMENT, NOT_FOUND, UNAVAILABLE


class TooLarge(Exception):
    pass


class BadHeader(Exception):
    """A request header that is not UTF-8 text; the message names it."""


class PipelineHttpApp:
    def __init__(self, buffer: DiskBuffer, max_body_bytes: int) -> None:
        self.buffer = buffer
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/v1/traces" and method == "POST":
            await self.traces(scope, receive, send)
        elif path == "/metrics" and method == "GET":
            metrics.BUFFER_BYTES.set(self.buffer.pending_bytes())
            await respond(send, 200, generate_latest(metrics.REGISTRY), CONTENT_TYPE_LATEST)
        elif path == "/health" and method == "GET":
            body = {"status": "ok", "version": VERSION, "buffer_bytes": self.buffer.pending_bytes()}
            await respond(send, 200, orjson.dumps(body), JSON)
        else:
            await reject(send, 404, "Not found. Routes: POST /v1/traces, GET /metrics, /health.")

    async def traces(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            headers = decode_headers(scope["headers"])
        except BadHeader as error:
            await reject(send, 400, str(error))
            return
        content_type = headers.get("content-type", "").split(";")[0].strip()
        if content_type not in (PROTOBUF, JSON):
            await reject(send, 415, f"Content-Type must be {PROTOBUF} or {JSON}.")
            return
        try:
            body = await read_body(receive, self.max_body_bytes)
            encoding = headers.get("content-encoding", "identity")
            if encoding == "gzip":
                body = inflate(body, self.max_body_bytes)
            elif encoding != "identity":
                await reject(send, 415, "Content-Encoding must be gzip or identity.")
                return
        except TooLarge:
            await reject(send, 413, f"The body is over {self.max_body_bytes} bytes; send less.")
            return
        except zlib.error:
            await reject(send, 400, "The body is not valid gzip.")
            return
        try:
            documents = span_documents(decode_request(body, content_type == JSON))
        except BadTraceRequest as error:
            await reject(send, 400, f"{error}.")
            return
        if not self.buffer.has_room():
            metrics.BACKPRESSURE.set(1)
            await reject(send, 503, "The pipeline's buffer is full; retry later.", retry=True)
            return
        metrics.RECORDS_RECEIVED.labels(source="otlp").inc(len(documents))
        await self.buffer.make_durable(self.buffer.append(documents))
        metrics.RECORDS_ACKED.labels(source="otlp").inc(len(documents))
        # An empty ExportTraceServiceResponse is zero bytes in protobuf and {} in JSON.
        await respond(send, 200, b"{}" if content_type == JSON else b"", content_type)


def decode_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Header names (lower case) to values; a value that is not UTF-8 is refused, not a 500."""
    headers: dict[str, str] = {}
    for name, value in raw:
        text_name = name.decode("latin-1").lower()
        try:
            headers[text_name] = value.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadHeader(
                f"The header {text_name[:100]!r} is not valid UTF-8 text; send it as UTF-8."
            ) from error
    return headers


async def read_body(receive: Receive, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts)


def inflate(body: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    result = inflater.decompress(body, limit + 1)
    if len(result) > limit or inflater.unconsumed_tail:
        raise TooLarge
    return result


async def reject(send: Send, status: int, sentence: str, retry: bool = False) -> None:
    metrics.REQUESTS_REJECTED.labels(status=str(status)).inc()
    extra = [(b"retry-after", b"2")] if retry else []
    body = orjson.dumps({"code": RPC_CODES.get(status, 2), "message": sentence})  # 2: UNKNOWN
    await respond(send, status, body, JSON, extra)


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: str = "text/plain; charset=utf-8",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type.encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
