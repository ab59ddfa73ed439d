"""OTLP decoding (protobuf and JSON) and the committed Kibana saved objects."""

from __future__ import annotations

import json

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from pipeline.kibana.generate import OUTPUT, render
from pipeline.otlp import BadTraceRequest, decode_request, span_documents
from pipeline.searches import SAVED_SEARCHES, find_search

TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_ID = "eee19b7ec3c1b174"
OTLP_JSON = {
    "resourceSpans": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
            "scopeSpans": [
                {
                    "scope": {"name": "tests"},
                    "spans": [
                        {
                            "traceId": TRACE_ID,
                            "spanId": SPAN_ID,
                            "name": "GET /x",
                            "kind": 2,
                            "startTimeUnixNano": "1700000000000000000",
                            "endTimeUnixNano": "1700000001500000000",
                            "status": {"code": 2, "message": "boom"},
                            "attributes": [
                                {"key": "http.status_code", "value": {"intValue": "500"}}
                            ],
                        }
                    ],
                }
            ],
        }
    ]
}


def test_otlp_json_spans_map_to_ecs_documents() -> None:
    request = decode_request(json.dumps(OTLP_JSON).encode(), json_body=True)
    [(index, doc)] = span_documents(request)
    assert index == "traces-shop-2023.11.14"
    assert doc["trace.id"] == TRACE_ID
    assert doc["span.id"] == SPAN_ID
    assert doc["span.kind"] == "server"
    assert doc["span.status.code"] == "ERROR"
    assert doc["event.outcome"] == "failure"
    assert doc["event.duration"] == 1_500_000_000
    assert doc["span.attributes"] == {"http.status_code": 500}


def test_otlp_protobuf_round_trip() -> None:
    request = decode_request(json.dumps(OTLP_JSON).encode(), json_body=True)
    again = decode_request(request.SerializeToString(), json_body=False)
    assert isinstance(again, ExportTraceServiceRequest)
    assert span_documents(again) == span_documents(request)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1]",
        b'{"resourceSpans": 5}',
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x",'
        b'"startTimeUnixNano":"18446744073709551615"}]}]}]}',
    ],
)
def test_bad_otlp_json_is_a_clear_error(body: bytes) -> None:
    with pytest.raises(BadTraceRequest):
        span_documents(decode_request(body, json_body=True))


def test_committed_kibana_objects_are_not_stale() -> None:
    assert OUTPUT.read_text() == render(), "run: .venv/bin/python -m pipeline.kibana.generate"


def test_kibana_objects_are_importable_shapes_with_stable_ids() -> None:
    lines = [json.loads(line) for line in OUTPUT.read_text().splitlines()]
    *objects, summary = lines
    assert summary["exportedCount"] == len(objects) == 6
    views = {o["attributes"]["title"]: o["id"] for o in objects if o["type"] == "index-pattern"}
    assert set(views) == {"logs-*", "traces-*"}
    searches = {o["attributes"]["title"]: o for o in objects if o["type"] == "search"}
    assert set(searches) == {
        "errors by service",
        "lock acquisition failures",
        "slow requests (> 1 s)",
        "all logs of one trace",
    }
    for search in searches.values():
        source = json.loads(search["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        assert source["query"]["language"] == "kuery"
        assert search["references"][0]["id"] in views.values()


def test_every_saved_search_is_findable_by_cli_name_and_title() -> None:
    for search in SAVED_SEARCHES:
        assert find_search(search.id.removeprefix("soundcheck-")) is search
        assert find_search(search.title.upper()) is search
    slow = find_search("slow-requests")
    assert slow.kql() == (
        'event.action: ("http.request.completed" or "http.request.failed")'
        " and event.duration > 1000000000"
    )
    assert slow.query()["bool"]["filter"][1] == {"range": {"event.duration": {"gt": 1000000000}}}
