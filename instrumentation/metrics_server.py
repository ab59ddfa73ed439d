"""`/metrics` from a process of its own, on its own port: requests cannot queue in front of it.

Under gunicorn every request thread can be busy waiting on MariaDB; a scrape of the app's own
`/metrics` then waits behind them, times out, and `up == 0` looks like an outage. This server
reads the same multiprocess files (every worker's values) from a process that serves nothing
else, so a scrape answers while the service is saturated.
"""

from __future__ import annotations

from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client.metrics import MetricWrapperBase

from instrumentation.metrics import render_metrics


def parse_bind(bind: str) -> tuple[str, int]:
    """`host:port` into its parts; a clear error for anything else."""
    host, separator, port = bind.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise ValueError(f"a metrics address must be host:port, like 127.0.0.1:8001, not {bind!r}")
    return host, int(port)


def metrics_server(
    bind: str, service_metrics: Iterable[MetricWrapperBase] = ()
) -> ThreadingHTTPServer:
    """A server answering GET /metrics (and /health, for a probe of the server itself)."""
    families = tuple(service_metrics)

    class MetricsHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, content_type = render_metrics(
                    accept=self.headers.get("Accept", ""), service_metrics=families
                )
                self._answer(200, body, content_type)
            elif path == "/health":
                self._answer(200, b'{"status":"up"}', "application/json")
            else:
                self._answer(404, b"Not found: this port serves GET /metrics only.\n", "text/plain")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Scrapes every 5 s are not worth a log line each."""

    server = ThreadingHTTPServer(parse_bind(bind), MetricsHandler)
    server.daemon_threads = True
    return server
