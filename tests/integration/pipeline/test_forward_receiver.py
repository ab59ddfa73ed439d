"""Logs through the forward protocol land in Elasticsearch with the right fields and types."""

from __future__ import annotations

import socket
import struct
import time

import httpx
import msgpack
from fluent import sender

from pipeline.forward_client import ForwardClient
from tests.support.elasticsearch_queries import metric_value, sources
from tests.support.polling import eventually

Address = tuple[str, int]


def test_fluent_logger_records_are_searchable_with_ecs_types(
    es: httpx.Client, forward_address: Address, service: str
) -> None:
    host, port = forward_address
    logger = sender.FluentSender("booking", host=host, port=port, nanosecond_precision=True)
    for n in range(3):
        assert logger.emit(
            "app",
            {
                "message": f"request {n} done",
                "log.level": "INFO",
                "service.name": service,
                "event.action": "http.request.completed",
                "event.duration": 1_250_000_000,
                "http.response.status_code": 201,
                "trace.id": "0af7651916cd43dd8448eb211c80319c",
            },
        ), logger.last_error
    logger.close()
    docs = eventually(
        lambda: (found := sources(es, f"logs-{service}-*")) and len(found) == 3 and found,
        30,
        "3 fluent-logger records indexed",
    )
    assert sorted(d["message"] for d in docs) == [f"request {n} done" for n in range(3)]
    assert docs[0]["event.dataset"] == "booking.app"
    mapping = es.get(
        f"/logs-{service}-*/_mapping/field/@timestamp,log.level,event.duration,"
        "http.response.status_code,trace.id,message"
    ).json()
    fields = next(iter(mapping.values()))["mappings"]
    types = {name: next(iter(f["mapping"].values()))["type"] for name, f in fields.items()}
    assert types == {
        "@timestamp": "date",
        "log.level": "keyword",
        "event.duration": "long",
        "http.response.status_code": "long",
        "trace.id": "keyword",
        "message": "text",
    }


def test_packed_forward_gzip_chunk_is_acked_and_searchable(
    es: httpx.Client, forward_address: Address, service: str
) -> None:
    records = [{"message": f"packed {n}", "service.name": service, "seq": n} for n in range(250)]
    with ForwardClient(*forward_address) as client:
        client.send("booking.app", records[:125], compress=True)  # returns only after the ack
        client.send("booking.app", records[125:], compress=False)
    docs = eventually(
        lambda: (found := sources(es, f"logs-{service}-*")) and len(found) == 250 and found,
        30,
        "250 packed records indexed",
    )
    assert sorted(d["seq"] for d in docs) == list(range(250))
    day = time.strftime("%Y.%m.%d", time.gmtime())
    assert es.head(f"/logs-{service}-{day}").status_code == 200


def test_identical_lines_stay_two(es: httpx.Client, forward_address: Address, service: str) -> None:
    same = {"message": "the very same line", "service.name": service}
    with ForwardClient(*forward_address) as client:
        client.send("booking.app", [same, same])
    eventually(
        lambda: len(sources(es, f"logs-{service}-*")) == 2, 30, "both identical lines indexed"
    )


def test_heartbeat_over_udp_is_answered(forward_address: Address) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(5)
        udp.sendto(b"\0", forward_address)
        assert udp.recv(16) == b"\0"


def closed_by_receiver(sock: socket.socket) -> bool:
    """True once the receiver has closed (EOF or reset) the connection."""
    sock.settimeout(10)
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def test_bad_input_closes_only_that_connection(
    es: httpx.Client, forward_address: Address, service: str, pipeline_url: str
) -> None:
    bad_inputs = [
        b"\xc1\xc1\xc1 this is not msgpack at all",
        msgpack.packb({"a": "map", "not": "an array"}),
        msgpack.packb(["tag", "not-a-time", {"m": 1}]),
        msgpack.packb(["tag", 1, ["record", "not", "a", "map"]]),
        msgpack.packb([42, 1, {}]),
    ]
    healthy = ForwardClient(*forward_address)  # stays connected through all of it
    for raw in bad_inputs:
        with socket.create_connection(forward_address) as bad:
            bad.sendall(raw)
            assert closed_by_receiver(bad), f"connection not closed after {raw[:20]!r}"
    # A 100 MB frame: a bin32 header announcing 100 MB, then the bytes.
    with socket.create_connection(forward_address) as huge:
        header = msgpack.packb(["tag", 1, {"m": "x"}])[:-4] + b"\xc6" + struct.pack(">I", 100 << 20)
        block = b"\0" * (1 << 20)
        sent = 0
        try:
            huge.sendall(header)
            while sent < 100 << 20:
                huge.sendall(block)
                sent += len(block)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert sent < 100 << 20 or closed_by_receiver(huge)
    healthy.send("booking.app", [{"message": "still served", "service.name": service}])
    healthy.close()
    eventually(lambda: len(sources(es, f"logs-{service}-*")) == 1, 30, "healthy record indexed")
    metrics = httpx.get(f"{pipeline_url}/metrics").text
    assert 'pipeline_connections_closed_total{reason="oversized"}' in metrics
    assert 'pipeline_connections_closed_total{reason="malformed"}' in metrics
    assert 'pipeline_connections_closed_total{reason="not_msgpack"}' in metrics


def nested(depth: int, bottom: str) -> dict[str, object]:
    record: dict[str, object] = {"bottom": bottom}
    for _ in range(depth):
        record = {"inner": record}
    return record


def test_a_record_nested_too_deep_is_acked_and_indexed_degraded(
    es: httpx.Client, forward_address: Address, service: str, pipeline_url: str
) -> None:
    """orjson encodes at most 254 levels; deeper records used to close the connection unacked,
    so a sender waiting for the ack resent the chunk for ever."""
    degraded_before = metric_value(pipeline_url, "pipeline_documents_degraded_total")
    records = [
        {"message": "shallow", "service.name": service},
        {"message": "300 deep", "service.name": service, "payload": nested(300, "bottom 300")},
        {"message": "1000 deep", "service.name": service, "payload": nested(1000, "bottom 1000")},
    ]
    with ForwardClient(*forward_address) as client:
        client.send("booking.app", records)  # returns only once the chunk is acked
    docs = eventually(
        lambda: (found := sources(es, f"logs-{service}-*")) and len(found) == 3 and found,
        30,
        "the shallow and both deep records indexed",
    )
    by_message = {doc["message"]: doc for doc in docs}
    assert "tags" not in by_message["shallow"]
    for depth in (300, 1000):
        deep = by_message[f"{depth} deep"]
        assert deep["tags"] == ["pipeline.degraded"]
        assert "nested deeper than 254 levels" in deep["pipeline.rejection"]
        assert deep["event.original"].count('{"inner":') == depth
        assert f'"bottom":"bottom {depth}"' in deep["event.original"]
    assert metric_value(pipeline_url, "pipeline_documents_degraded_total") == degraded_before + 2
