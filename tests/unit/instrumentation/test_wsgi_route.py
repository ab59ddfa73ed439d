"""A bare WSGI route in front of Flask (`instrument_wsgi_route`) records what a Flask route
does: the same SERVER span (name, kind, attributes, parent), request metrics and log line."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from instrumentation import metrics
from instrumentation.logs import LoggingSetup
from instrumentation.wsgi import Answer, instrument_flask, instrument_wsgi_route
from tests.support.polling import eventually
from tests.support.telemetry_peers import shared_otlp_peer
from tests.support.telemetry_setup import configure, telemetry_settings

ROUTE = "/things"
FLASK_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
BARE_TRACE = "5bf92f3577b34da6a3ce929d0e0e4737"
CALLER_SPAN = "00f067aa0ba902b7"


def busy(environ: dict[str, Any]) -> Answer:
    logging.getLogger("route-test").info("looked", extra={"event": "things.looked"})
    return 503, [("Content-Type", "application/json")], b"{}"


def server_span(trace_id: str) -> dict[str, Any]:
    peer = shared_otlp_peer()
    spans = eventually(lambda: peer.trace(trace_id), 15, f"the span of {trace_id}", every=0.05)
    (span,) = spans
    return span


def test_a_bare_route_gets_the_span_metrics_and_log_line_a_flask_route_gets(
    capsys: pytest.CaptureFixture[str], logging_to: list[LoggingSetup]
) -> None:
    settings = telemetry_settings()
    configure(logging_to, "route-test", settings)
    app = Flask("route-test")
    app.add_url_rule(ROUTE, "things", lambda: (busy({})[2], 503), methods=["POST"])
    instrument_flask(app, "route-test", settings)
    traced = instrument_wsgi_route("POST", ROUTE, busy, "route-test", settings)

    def bare_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        status, headers, body = traced(environ)
        start_response(f"{status} Service Unavailable", headers)
        return [body]

    bare = Client(bare_app)
    counted = metrics.HTTP_REQUESTS.labels("POST", ROUTE, "503")
    before = counted._value.get()

    for client, trace_id in ((app.test_client(), FLASK_TRACE), (bare, BARE_TRACE)):
        parent = f"00-{trace_id}-{CALLER_SPAN}-01"
        answer = client.post(
            ROUTE, headers={"traceparent": parent}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
        )
        assert answer.status_code == 503

    assert counted._value.get() - before == 2
    through_flask, bare_span = server_span(FLASK_TRACE), server_span(BARE_TRACE)
    assert bare_span["name"] == through_flask["name"] == "POST /things"
    assert bare_span["kind"] == through_flask["kind"]
    assert bare_span["parent_id"] == through_flask["parent_id"] == CALLER_SPAN
    assert bare_span["attributes"] == through_flask["attributes"]
    assert bare_span["attributes"]["http.response.status_code"] == 503
    assert bare_span["attributes"]["client.address"] == "10.1.2.3"

    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    for trace_id in (FLASK_TRACE, BARE_TRACE):
        mine = [x for x in lines if x.get("trace.id") == trace_id]
        assert [x["event.action"] for x in mine] == ["things.looked", "http.request.failed"]
    flask_line, bare_line = (
        {
            k: v
            for k, v in x.items()
            if k not in ("@timestamp", "trace.id", "span.id", "event.duration")
        }
        for x in lines
        if x.get("event.action") == "http.request.failed"
    )
    assert bare_line == flask_line
