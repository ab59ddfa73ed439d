"""Spans from the real OTel SDK, a trace's logs by its id, and every saved search via the CLI."""

from __future__ import annotations

import gzip
import os
import subprocess

import httpx
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from pipeline.forward_client import ForwardClient
from soundcheck import REPO_ROOT
from tests.support.elasticsearch_queries import metric_value, sources
from tests.support.polling import eventually

Address = tuple[str, int]


def logs_search(*args: str) -> str:
    """`soundcheck logs search ...` as a user runs it, wide enough that ids are not folded."""
    result = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "soundcheck"), "logs", "search", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "300"},
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_sdk_spans_are_searchable_and_their_logs_found_by_trace_id(
    es: httpx.Client, pipeline_url: str, forward_address: Address, service: str
) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = OTLPSpanExporter(endpoint=f"{pipeline_url}/v1/traces")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("soundcheck.tests")
    with tracer.start_as_current_span("POST /reservations", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.request.method", "POST")
        with tracer.start_as_current_span("seat lock") as child:
            child.set_status(Status(StatusCode.ERROR, "lock busy"))
        trace_id = format(root.get_span_context().trace_id, "032x")
        root_span_id = format(root.get_span_context().span_id, "016x")
    provider.shutdown()

    spans = eventually(
        lambda: (found := sources(es, f"traces-{service}-*")) and len(found) == 2 and found,
        30,
        "2 spans indexed",
    )
    by_name = {span["span.name"]: span for span in spans}
    assert by_name["POST /reservations"]["span.kind"] == "server"
    assert by_name["POST /reservations"]["trace.id"] == trace_id
    assert by_name["seat lock"]["parent.id"] == root_span_id
    assert by_name["seat lock"]["span.status.code"] == "ERROR"
    assert by_name["POST /reservations"]["span.attributes"]["http.request.method"] == "POST"
    mapping = es.get(f"/traces-{service}-*/_mapping/field/span.duration_ms,event.duration").json()
    fields = next(iter(mapping.values()))["mappings"]
    assert fields["span.duration_ms"]["mapping"]["duration_ms"]["type"] == "scaled_float"

    with ForwardClient(*forward_address) as client:
        client.send(
            "booking.app",
            [
                {"message": f"step {n} of the trace", "service.name": service, "trace.id": trace_id}
                for n in range(3)
            ]
            + [{"message": "another trace", "service.name": service, "trace.id": "f" * 32}],
        )
    eventually(lambda: len(sources(es, f"logs-{service}-*")) == 4, 30, "trace logs indexed")
    out = logs_search("logs-of-one-trace", "--trace-id", trace_id)
    assert [f"step {n} of the trace" in out for n in range(3)] == [True] * 3
    assert "another trace" not in out
    assert "3 of 3 matching documents" in out


def test_otlp_json_and_gzip_bodies_and_clear_errors(pipeline_url: str, service: str) -> None:
    body = (
        '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":'
        f'{{"stringValue":"{service}"}}}}]}},"scopeSpans":[{{"spans":[{{"traceId":'
        '"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"json span",'
        '"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000100000000"}]}]}]}'
    )
    ok = httpx.post(
        f"{pipeline_url}/v1/traces",
        content=gzip.compress(body.encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert (ok.status_code, ok.text) == (200, "{}")
    bad = httpx.post(
        f"{pipeline_url}/v1/traces", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 400
    assert "not OTLP JSON" in bad.text
    wrong_type = httpx.post(f"{pipeline_url}/v1/traces", content=b"x")
    assert wrong_type.status_code == 415


def test_a_header_that_is_not_utf8_gets_400_with_a_sentence_and_is_counted(
    pipeline_url: str,
) -> None:
    rejected = "pipeline_otlp_requests_rejected_total"
    before = metric_value(pipeline_url, rejected, status="400")
    answer = httpx.post(
        f"{pipeline_url}/v1/traces",
        content=b'{"resourceSpans":[]}',
        headers={"Content-Type": "application/json", "X-Client-Note": b"caf\xe9"},
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert "'x-client-note' is not valid UTF-8 text" in answer.json()["message"]
    assert metric_value(pipeline_url, rejected, status="400") == before + 1


def test_each_saved_search_returns_its_documents(
    es: httpx.Client, forward_address: Address, service: str
) -> None:
    def record(message: str, **fields: object) -> dict[str, object]:
        return {"message": f"{service} {message}", "service.name": service, **fields}

    with ForwardClient(*forward_address) as client:
        client.send(
            "booking.app",
            [
                record("payment failed", **{"log.level": "ERROR"}),
                record("all fine", **{"log.level": "INFO"}),
                record(
                    "seat lock not acquired",
                    **{"log.level": "WARN", "event.action": "distributed_lock.acquisition_failed"},
                ),
                record(
                    "slow reservation",
                    **{"event.action": "http.request.completed", "event.duration": 2_500_000_000},
                ),
                record(
                    "fast reservation",
                    **{"event.action": "http.request.completed", "event.duration": 40_000_000},
                ),
            ],
        )
    eventually(lambda: len(sources(es, f"logs-{service}-*")) == 5, 30, "5 records indexed")

    def rows(output: str) -> list[str]:
        """Table rows of this test's service (other tests share the indices' pattern)."""
        return [line for line in output.splitlines() if "│" in line and service in line]

    errors = rows(logs_search("errors-by-service", "--since", "1h", "--size", "500"))
    assert len(errors) == 1
    assert "payment failed" in errors[0]
    assert "ERROR" in errors[0]

    locks = rows(logs_search("lock acquisition failures", "--since", "1h", "--size", "500"))
    assert len(locks) == 1
    assert "seat lock not acquired" in locks[0]

    slow = rows(logs_search("slow-requests", "--since", "1h", "--size", "500"))
    assert len(slow) == 1
    assert "2500000000" in slow[0]
