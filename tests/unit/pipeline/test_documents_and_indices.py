"""Index names, document shaping, retention and the templates' explicit mappings."""

from __future__ import annotations

import copy
from datetime import date

from pipeline.documents import daily_index, degraded_document, log_document, log_documents
from pipeline.indices import component_templates, expired_indices, index_templates


def test_daily_index_names_are_safe_and_dated_in_utc() -> None:
    assert daily_index("logs", "Booking App/*", 1700000000) == "logs-booking-app-2023.11.14"
    assert daily_index("traces", "", 0) == "traces-unknown-1970.01.01"


def test_log_document_takes_service_from_record_else_tag() -> None:
    index, doc = log_document("booking.app", 1700000000, 5, {"message": "x"})
    assert index == "logs-booking-2023.11.14"
    assert doc["service.name"] == "booking"
    assert doc["@timestamp"] == "2023-11-14T22:13:20.000000005Z"
    assert doc["event.dataset"] == "booking.app"
    index, doc = log_document("t", 1700000000, 0, {"service": {"name": "router"}})
    assert index.startswith("logs-router-")
    assert "service.name" not in doc  # never both nested and dotted (ES would see two values)


def test_log_documents_shapes_a_message_as_log_document_shapes_each_record() -> None:
    day = 86_400
    entries = [
        (1700000000, 1, {"service.name": "booking", "message": "usual"}),
        (1700000000, 1, {"service.name": "booking", "message": "same time"}),
        (1700000000, 2, {"service.name": "router", "message": "other service"}),
        (1700000000 + day, 0, {"service.name": "router", "message": "next day"}),
        (1700000000 + day, 0, {"message": "no service"}),
        (1700000000, 0, {"service.name": "", "message": "empty service"}),
        (1700000000, 0, {"service.name": 5, "message": "not a string"}),
        (1700000000, 0, {"service": {"name": "nested"}}),
        (1700000000, 0, {"service.name": "b", "@timestamp": "2020-01-01T00:00:00Z"}),
        (1700000000, 0, {"service.name": "b", "@timestamp": 7}),
        (1700000000, 0, {"service.name": "b", "event.dataset": "own"}),
        (1700000000, 0, {"service.name": "b", "event.dataset": None}),
        (1700000000, 0, {"service.name": "b", "event": {"dataset": "nested"}}),
        (1700000000 + 2 * day, 0, {"service.name": "booking", "message": "back to usual"}),
    ]
    expected = [log_document("booking.app", s, ns, copy.deepcopy(r)) for s, ns, r in entries]
    assert log_documents("booking.app", entries) == expected
    assert expected[3][0] == "logs-router-2023.11.15"


def test_retention_deletes_only_daily_indices_older_than_30_days() -> None:
    names = [
        "logs-booking-2026.10.24",
        "logs-booking-2026.10.25",
        "traces-my-svc-2026.01.01",
        "logs-booking-not-a-date",
        ".kibana_1",
    ]
    assert expired_indices(names, 30, date(2026, 11, 24)) == [
        "logs-booking-2026.10.24",
        "traces-my-svc-2026.01.01",
    ]


def test_templates_map_ecs_fields_explicitly_and_outrank_builtin_logs_template() -> None:
    logs = component_templates(ilm=False)["soundcheck-logs-mappings"]["template"]["mappings"]
    props = logs["properties"]
    assert props["@timestamp"] == {"type": "date"}
    assert props["log"]["properties"]["level"]["type"] == "keyword"
    assert props["trace"]["properties"]["id"]["type"] == "keyword"
    assert props["event"]["properties"]["duration"]["type"] == "long"
    assert all(t["priority"] > 100 for t in index_templates().values())
    settings = component_templates(ilm=True)["soundcheck-settings"]["template"]["settings"]
    assert settings["index"]["lifecycle"]["name"] == "soundcheck-30-days"
    plain = component_templates(ilm=False)["soundcheck-settings"]["template"]["settings"]
    assert "lifecycle" not in plain["index"]


def test_degraded_document_keeps_core_fields_and_the_original() -> None:
    doc = {"@timestamp": "2026-01-01T00:00:00Z", "message": {"odd": 1}, "trace.id": "t"}
    degraded = degraded_document(doc, "mapper_parsing_exception", '{"original": 1}')
    assert degraded["message"] == '{"odd":1}'  # JSON text, whatever its depth
    assert degraded["trace.id"] == "t"
    assert degraded["event.original"] == '{"original": 1}'
    assert degraded["tags"] == ["pipeline.degraded"]
