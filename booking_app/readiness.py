"""Liveness and readiness (B11): readiness names every dependency and its state.

Ready means requests can be served correctly: the database is required; Redis down only
degrades (in-process locks, reads from the database) and Kafka down only delays events (the
outbox keeps them), so both are reported but do not make the service unready.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from confluent_kafka.admin import AdminClient
from sqlalchemy import text

from booking_app.redis_store import RedisUnavailable
from booking_app.services import Services

KAFKA_CHECK_EVERY_SECONDS = 5.0


class KafkaCheck:
    """Asks Kafka for its metadata at most every few seconds (it is slow when Kafka is down)."""

    def __init__(self, bootstrap: str) -> None:
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._result: dict[str, Any] = {"status": "unknown"}

    def state(self) -> dict[str, Any]:
        with self._lock:
            if time.monotonic() - self._checked_at < KAFKA_CHECK_EVERY_SECONDS:
                return self._result
            self._checked_at = time.monotonic()
            try:
                metadata = self.admin.list_topics(timeout=1.0)
                self._result = {"status": "up", "brokers": len(metadata.brokers)}
            except Exception as error:  # any client error means: not reachable now
                self._result = {"status": "down", "detail": type(error).__name__}
            return self._result


def readiness(svc: Services, kafka: KafkaCheck) -> tuple[dict[str, Any], int]:
    dependencies: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    try:
        with svc.db.connection() as conn:
            conn.execute(text("SELECT 1"))
        dependencies["database"] = {"status": "up"}
    except Exception as error:  # a 503 with the reason, whatever the driver raised
        dependencies["database"] = {"status": "down", "detail": type(error).__name__}
    breaker = svc.redis.breaker.state
    try:
        svc.redis.ping()
        dependencies["redis"] = {"status": "up", "breaker": str(breaker)}
    except RedisUnavailable:
        dependencies["redis"] = {
            "status": "down",
            "breaker": str(svc.redis.breaker.state),
            "detail": "degraded mode: in-process locks, reads from the database",
        }
    dependencies["kafka"] = kafka.state()
    ready = dependencies["database"]["status"] == "up"
    degraded = any(d["status"] != "up" for d in dependencies.values())
    status = "unavailable" if not ready else ("degraded" if degraded else "ready")
    body = {
        "status": status,
        "dependencies": dependencies,
        "checkedInSeconds": round(time.monotonic() - started, 3),
    }
    return body, 200 if ready else 503
