"""Real protocol peers for instrumentation tests: a Fluentd forward receiver and an OTLP/HTTP
traces receiver. They speak the wire protocols the production pipeline speaks (msgpack forward
protocol with chunk acks; protobuf `ExportTraceServiceRequest`), so the code under test runs
unchanged; they keep what they receive in memory for the test to inspect. `KeptSpans` keeps
what a provider exports without a wire in between.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgpack
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tests.support.polling import eventually


class KeptSpans(SpanExporter):
    """The spans a provider's processor exports, kept as they are (no wire in between)."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ForwardPeer:
    """A forward-protocol receiver (Message, Forward and PackedForward modes, chunk acks).

    `stop()` is a kill: the listener and every connection close at once, unread data is lost
    exactly as when a real receiver dies. `start()` listens again on the same port.
    """

    def __init__(self, port: int | None = None, ack: bool = True) -> None:
        self.port = port or free_port()
        self.ack = ack
        self.records: list[tuple[str, dict[str, Any]]] = []
        self.chunks_acked = 0
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._running = False

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def start(self) -> ForwardPeer:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._running = True
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._running = False
        listener, self._listener = self._listener, None
        if listener is not None:
            # Wakes the thread blocked in accept(); close() alone leaves it listening.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [record for _, record in self.records]

    def _accept(self, listener: socket.socket) -> None:
        while self._running:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections.append(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        unpacker = msgpack.Unpacker(raw=False, ext_hook=_event_time)
        try:
            while True:
                data = connection.recv(65536)
                if not data:
                    return
                unpacker.feed(data)
                for message in unpacker:
                    self._handle(connection, message)
        except OSError:
            return
        finally:
            connection.close()

    def _handle(self, connection: socket.socket, message: list[Any]) -> None:
        tag, second = message[0], message[1]
        options: dict[str, Any] = {}
        if isinstance(second, list):  # Forward mode
            entries = [entry[1] for entry in second]
            options = message[2] if len(message) > 2 else {}
        elif isinstance(second, bytes):  # PackedForward
            unpacker = msgpack.Unpacker(raw=False, ext_hook=_event_time)
            unpacker.feed(second)
            entries = [entry[1] for entry in unpacker]
            options = message[2] if len(message) > 2 else {}
        else:  # Message mode
            entries = [message[2]]
            options = message[3] if len(message) > 3 else {}
        with self._lock:
            self.records.extend((tag, record) for record in entries)
        chunk = options.get("chunk") if isinstance(options, dict) else None
        if chunk and self.ack:
            connection.sendall(msgpack.packb({"ack": chunk}))
            self.chunks_acked += 1


def _event_time(code: int, data: bytes) -> float:
    seconds = int.from_bytes(data[:4], "big")
    nanoseconds = int.from_bytes(data[4:8], "big")
    return seconds + nanoseconds / 1e9


class OtlpPeer:
    """An OTLP/HTTP traces receiver (`POST /v1/traces`, protobuf) keeping the spans it decodes."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                peer._keep(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _keep(self, request: ExportTraceServiceRequest) -> None:
        found = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.append(
                        {
                            "service": resource.get("service.name"),
                            "resource": resource,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_id": span.parent_span_id.hex(),
                            "name": span.name,
                            "kind": span.kind,
                            "attributes": {a.key: _value(a.value) for a in span.attributes},
                            "links": [
                                (link.trace_id.hex(), link.span_id.hex()) for link in span.links
                            ],
                        }
                    )
        with self._lock:
            self.spans.extend(found)

    def trace(self, trace_id: str) -> list[dict[str, Any]]:
        with self._lock:
            unique = {span["span_id"]: span for span in self.spans if span["trace_id"] == trace_id}
        return list(unique.values())

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


_shared_otlp: OtlpPeer | None = None
_shared_lock = threading.Lock()


def shared_otlp_peer() -> OtlpPeer:
    """One OTLP peer per test process that every in-process span reaches.

    A process has one global tracer provider (whoever configures it first wins), so the peer
    is attached to it as an extra exporter: in-process spans land here whichever test (or other
    suite) configured tracing first.
    """
    global _shared_otlp
    with _shared_lock:
        if _shared_otlp is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor

            from instrumentation.settings import TelemetrySettings
            from instrumentation.tracing import configure_tracing

            peer = OtlpPeer()
            # The SDK's exporter reads the standard variable, as in a service.
            os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = peer.endpoint
            settings = TelemetrySettings(instrumentation="on", fluent_enabled=False)
            provider = configure_tracing("instrumentation-tests", settings)
            assert provider is not None, "tracing could not be configured"
            exporter = OTLPSpanExporter(endpoint=peer.endpoint + "/v1/traces")
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            _shared_otlp = peer
        return _shared_otlp


class ForwardPeerProcess:
    """A forward receiver in a small process of its own (started fresh, not forked from the test),
    so that killing it is a real SIGKILL and neither its work nor its teardown competes with the
    test's own threads, which time requests."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> ForwardPeerProcess:
        code = (
            "import sys, threading; sys.path.insert(0, sys.argv[1]); "
            "from tests.support.telemetry_peers import ForwardPeer; "
            "ForwardPeer(port=int(sys.argv[2])).start(); threading.Event().wait()"
        )
        repo = str(Path(__file__).resolve().parents[2])
        process = subprocess.Popen([sys.executable, "-c", code, repo, str(self.port)])
        self._process = process

        def listening() -> bool:  # once a connection is accepted
            assert process.poll() is None, "the forward peer process exited"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port)):
                return True
            return False

        eventually(listening, 30, "the forward peer process listens", every=0.02)
        return self

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(10)
            self._process = None
