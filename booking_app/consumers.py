"""The Kafka consumers (B7): ranking, data-platform sink and reservation expiry.

Each is idempotent by event id, commits its offset only after its work is done (at-least-once
delivery, exactly-once effect), and retries a failing event instead of skipping it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from sqlalchemy.dialects.mysql import insert as mysql_insert

from booking_app import metrics, ranking, waiting_queue
from booking_app.cache import seats_key
from booking_app.db import utcnow
from booking_app.models import data_platform_events
from booking_app.outbox import PAYMENT_COMPLETED, RESERVATION_EXPIRED, TOPICS
from booking_app.services import Services
from instrumentation.tracing import kafka_consume_span

log = logging.getLogger("booking_app.consumers")

Handler = Callable[[Services, dict[str, Any]], None]


def count_in_ranking(svc: Services, event: dict[str, Any]) -> None:
    ranking.record_booking(svc, event["eventId"], event["concertId"])


def deliver_to_data_platform(svc: Services, event: dict[str, Any]) -> None:
    with svc.db.transaction() as conn:
        conn.execute(
            mysql_insert(data_platform_events)
            .values(
                event_id=event["eventId"],
                topic=event["eventType"],
                payload=event,
                received_at=utcnow(),
            )
            .prefix_with("IGNORE")
        )


def release_expired_reservation(svc: Services, event: dict[str, Any]) -> None:
    svc.cache.evict(seats_key(event["scheduleId"]))
    waiting_queue.activate_tokens(svc, trigger="reservation_expired")


@dataclass(frozen=True)
class ConsumerSpec:
    group: str
    topic: str
    handler: Handler


CONSUMERS = (
    ConsumerSpec("booking-ranking", PAYMENT_COMPLETED, count_in_ranking),
    ConsumerSpec("booking-data-platform", PAYMENT_COMPLETED, deliver_to_data_platform),
    ConsumerSpec("booking-reservation-expiry", RESERVATION_EXPIRED, release_expired_reservation),
)


def ensure_topics(svc: Services, partitions: int = 3) -> None:
    admin = AdminClient({"bootstrap.servers": svc.settings.kafka_bootstrap})
    wanted = [svc.settings.topic(t) for t in TOPICS]
    existing = set(admin.list_topics(timeout=10).topics)
    missing = [
        NewTopic(t, num_partitions=partitions, replication_factor=1)
        for t in wanted
        if t not in existing
    ]
    if not missing:
        return
    for topic, future in admin.create_topics(missing).items():
        try:
            future.result(timeout=15)
        except KafkaException as error:
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise
        log.info(
            "topic created",
            extra={"event": "kafka.topic.created", "messaging.destination.name": topic},
        )


class EventConsumer:
    def __init__(self, svc: Services, spec: ConsumerSpec) -> None:
        self.svc = svc
        self.spec = spec
        self.group = svc.settings.topic(spec.group)
        self.topic = svc.settings.topic(spec.topic)
        self.consumer = Consumer(
            {
                "bootstrap.servers": svc.settings.kafka_bootstrap,
                "group.id": self.group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 10000,
            }
        )
        self._last_lag_report = 0.0

    def run(self, stop: threading.Event) -> None:
        self.consumer.subscribe([self.topic])
        try:
            while not stop.is_set():
                message = self.consumer.poll(0.5)
                self._report_lag()
                if message is None:
                    continue
                if message.error():
                    log.warning(
                        "consumer error",
                        extra={
                            "event": "kafka.consumer.error",
                            "error.message": str(message.error()),
                        },
                    )
                    continue
                event = orjson.loads(message.value() or b"{}")
                while not stop.is_set():
                    try:
                        with kafka_consume_span(
                            message.topic() or self.topic,
                            message.headers(),  # type: ignore[arg-type]
                            self.group,
                            message.partition(),
                            message.offset(),
                        ):
                            self.spec.handler(self.svc, event)
                        break
                    except Exception:
                        log.exception(
                            "event handling failed; retrying",
                            extra={
                                "event": "kafka.message.processing_failed",
                                "messaging.destination.name": self.topic,
                                "event.id": event.get("eventId"),
                            },
                        )
                        stop.wait(1.0)
                else:
                    return  # stopping: leave the offset uncommitted, the event comes again
                self.consumer.commit(message=message, asynchronous=False)
        finally:
            self.consumer.close()

    def _report_lag(self) -> None:
        now = time.monotonic()
        if now - self._last_lag_report < 5:
            return
        self._last_lag_report = now
        try:
            assigned = self.consumer.assignment()
            if not assigned:
                return
            positions = self.consumer.position(assigned)
            lag = 0
            for partition in positions:
                _, high = self.consumer.get_watermark_offsets(
                    TopicPartition(partition.topic, partition.partition), timeout=1, cached=True
                )
                if partition.offset >= 0:
                    lag += max(0, high - partition.offset)
            metrics.consumer_lag(self.group, self.topic, lag)
        except KafkaException:
            pass
