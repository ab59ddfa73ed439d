"""O1 across Kafka: the consumer's span continues the producer's trace through message headers
(real broker, confluent-kafka, spans exported over OTLP/HTTP)."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from opentelemetry import trace

from instrumentation.tracing import kafka_consume_span, kafka_produce_span
from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.polling import eventually
from tests.support.telemetry_peers import shared_otlp_peer


def test_producer_and_consumer_spans_are_linked_through_kafka_headers(
    settings: StackSettings, stack: Stack
) -> None:
    peer = shared_otlp_peer()
    bootstrap = f"{settings.host}:{settings.kafka_port}"
    topic = f"instrumentation-test-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the topic exists
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    with (
        trace.get_tracer("test").start_as_current_span("POST /payments") as request_span,
        kafka_produce_span(topic, key="event-1") as headers,
    ):
        producer_span = trace.get_current_span().get_span_context()
        producer.produce(topic, b'{"eventId": "event-1"}', key=b"event-1", headers=headers)
    assert producer.flush(30) == 0

    group = f"instrumentation-test-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    try:
        message = eventually(lambda: valid(consumer.poll(1.0)), 60, "the message consumed", every=0)
        with kafka_consume_span(
            message.topic(), message.headers(), group, message.partition(), message.offset()
        ) as consumer_span:
            consumed = consumer_span.get_span_context()
    finally:
        consumer.close()

    trace_id = format(request_span.get_span_context().trace_id, "032x")
    eventually(
        lambda: len(peer.trace(trace_id)) >= 3,
        30,
        lambda: f"three spans of {trace_id}: {peer.trace(trace_id)}",
        every=0.1,
    )
    spans = {span["name"]: span for span in peer.trace(trace_id)}
    publish, process = spans[f"{topic} publish"], spans[f"{topic} process"]
    assert consumed.trace_id == request_span.get_span_context().trace_id
    assert publish["parent_id"] == format(request_span.get_span_context().span_id, "016x")
    assert process["parent_id"] == format(producer_span.span_id, "016x")
    assert process["links"] == [(trace_id, publish["span_id"])]
    assert process["attributes"]["messaging.consumer.group.name"] == group
    assert process["kind"] == 5
    assert publish["kind"] == 4


def valid(message: Message | None) -> Message | None:
    """The message `Consumer.poll` returned, unless it is none or an error event."""
    return message if message is not None and not message.error() else None
