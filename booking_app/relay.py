"""The outbox relay (B7): publishes unpublished outbox rows to Kafka, in order, within ~1 s.

The producer is idempotent with acks=all, bounded retries and backoff (plan 4-3, 3-2). A row is
marked published only after Kafka acknowledged it; when Kafka is down the rows simply wait, so
nothing is lost, and a crash between the ack and the mark re-sends a row (consumers dedupe by
event id).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
from confluent_kafka import KafkaError, Message, Producer
from sqlalchemy import func, select, update

from booking_app import metrics
from booking_app.db import utcnow
from booking_app.models import outbox_events
from booking_app.services import Services
from instrumentation.tracing import kafka_produce_span

log = logging.getLogger("booking_app.relay")


def producer_config(svc: Services) -> dict[str, Any]:
    return {
        "bootstrap.servers": svc.settings.kafka_bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "max.in.flight.requests.per.connection": 5,
        "retries": 5,
        "retry.backoff.ms": 300,
        "retry.backoff.max.ms": 5000,
        "message.timeout.ms": svc.settings.kafka_delivery_timeout_ms,
        "linger.ms": 5,
        "compression.type": "gzip",
    }


class OutboxRelay:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.producer = Producer(producer_config(svc))

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                sent = self.relay_once()
            except Exception:
                log.exception("outbox relay pass failed", extra={"event": "outbox.relay_failed"})
                sent = 0
            if sent < self.svc.settings.relay_batch_size:
                stop.wait(self.svc.settings.relay_interval_seconds)
        self.producer.flush(5)

    def relay_once(self) -> int:
        svc = self.svc
        with svc.db.transaction() as conn:
            rows = conn.execute(
                select(outbox_events)
                .where(outbox_events.c.published_at.is_(None))
                .order_by(outbox_events.c.id)
                .limit(svc.settings.relay_batch_size)
            ).all()
            backlog = conn.execute(
                select(func.count())
                .select_from(outbox_events)
                .where(outbox_events.c.published_at.is_(None))
            ).scalar_one()
        metrics.outbox_backlog(int(backlog))
        if not rows:
            return 0
        delivered: list[int] = []
        fatal: list[KafkaError] = []

        def on_delivery(row_id: int, topic: str) -> Any:
            def report(error: KafkaError | None, message: Message) -> None:
                if error is None:
                    delivered.append(row_id)
                    metrics.kafka_produced(topic)
                    log.debug(
                        "event sent",
                        extra={"event": "kafka.message.sent", "messaging.destination.name": topic},
                    )
                    return
                metrics.kafka_failed(topic)
                if error.fatal():
                    fatal.append(error)
                log.warning(
                    "event not delivered; the relay retries it",
                    extra={
                        "event": "kafka.message.failed",
                        "messaging.destination.name": topic,
                        "error.message": error.str(),
                    },
                )

            return report

        for row in rows:
            topic = svc.settings.topic(row.topic)
            payload = row.payload if isinstance(row.payload, dict) else orjson.loads(row.payload)
            event_headers = [
                ("event_id", row.event_id.encode()),
                ("event_type", row.topic.encode()),
            ]
            try:
                with kafka_produce_span(topic, key=row.event_key, headers=event_headers) as headers:
                    self.producer.produce(
                        topic,
                        key=row.event_key.encode(),
                        value=orjson.dumps(payload),
                        headers=list(headers),
                        on_delivery=on_delivery(row.id, row.topic),
                    )
            except BufferError:
                break
        self.producer.flush(svc.settings.kafka_delivery_timeout_ms / 1000 + 2)
        if delivered:
            with svc.db.transaction() as conn:
                conn.execute(
                    update(outbox_events)
                    .where(outbox_events.c.id.in_(delivered))
                    .values(published_at=utcnow())
                )
        if fatal:
            log.error(
                "the Kafka producer hit a fatal error; starting a new one",
                extra={"event": "kafka.producer.recreated"},
            )
            self.producer = Producer(producer_config(svc))
        return len(delivered)
