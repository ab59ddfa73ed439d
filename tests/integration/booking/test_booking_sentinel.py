"""B9: the service works through Redis Sentinel and recovers by itself from a master failover."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import httpx
import pytest
import redis

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.redis_sentinel import MASTER_NAME, RedisSentinel
from soundcheck.stack.stack import Stack
from tests.support.booking_instances import BookingInstance, start_instance, stop_instance
from tests.support.polling import eventually


@pytest.fixture(scope="module")
def through_sentinel(stack: Stack, settings: StackSettings) -> Iterator[BookingInstance]:
    part = stack.part("redis_sentinel")
    assert isinstance(part, RedisSentinel)
    instance = start_instance(
        settings,
        "sentinel",
        redis_db=5,
        BOOKING_REDIS_SENTINELS=part.sentinel_addresses(),
        BOOKING_REDIS_TIMEOUT_SECONDS="0.5",
        BOOKING_BREAKER_VOLUME_THRESHOLD="5",
        BOOKING_BREAKER_RESET_SECONDS="1",
        BOOKING_MAX_ACTIVE_TOKENS="1000",
    )
    yield instance
    stop_instance(instance)


def master_port(settings: StackSettings, part: RedisSentinel) -> int:
    client = redis.Redis(host=settings.host, port=part.sentinel_ports()[0], socket_timeout=1)
    try:
        return int(client.sentinel_get_master_addr_by_name(MASTER_NAME)[1])
    finally:
        client.close()


def cache_hits(app: BookingInstance) -> bool:
    with app.client(timeout=5) as client:
        client.get("/concerts/schedules/schedule_2/seats")
        return client.get("/concerts/schedules/schedule_2/seats").headers["X-Cache-Hit"] == "true"


def redis_ready(app: BookingInstance) -> str:
    ready = httpx.get(f"{app.url}/ready", timeout=10).json()
    return str(ready["dependencies"]["redis"]["status"])


def test_master_failover_during_traffic_recovers_by_itself(
    through_sentinel: BookingInstance, stack: Stack, settings: StackSettings
) -> None:
    app = through_sentinel
    part = stack.part("redis_sentinel")
    assert isinstance(part, RedisSentinel)
    eventually(lambda: cache_hits(app), 20, "reads are cached in the Sentinel-managed master")
    old_port = master_port(settings, part)
    old_master = redis.Redis(host=settings.host, port=old_port)
    pid = int(old_master.info("server")["process_id"])
    old_master.close()

    statuses: list[int] = []
    stop = threading.Event()
    with app.client(timeout=10) as client:
        seats = len(client.get("/concerts/schedules/schedule_2/seats").json()["seats"])

    def traffic() -> None:
        with app.client(timeout=10) as client:
            sent = 0
            while not stop.is_set():
                sent += 1
                user = f"failover-{sent}"
                token = client.post("/queue/token", json={"userId": user})
                statuses.append(token.status_code)
                # One reservation per seat while there are seats (a slow failover outlasted the
                # 200 seats once, and seat 201 is rightly a 404); tokens and reads go on.
                if sent <= seats:
                    reservation = client.post(
                        "/reservations",
                        headers={"X-Queue-Token": token.json().get("tokenValue", "")},
                        json={"userId": user, "scheduleId": "schedule_2", "seatNo": sent},
                    )
                    statuses.append(reservation.status_code)
                statuses.append(client.get("/concerts/schedules/schedule_2/seats").status_code)

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        os.kill(pid, signal.SIGKILL)  # the master crashes
        eventually(
            lambda: master_port(settings, part) != old_port, 60, "the sentinels promote the replica"
        )
        eventually(
            lambda: cache_hits(app),
            60,
            "the service finds the new master by itself and caches again",
        )
        # Each gunicorn worker has its own breaker and finds the new master on its own: the
        # worker that answers /ready may still be in its breaker's reset window for a moment.
        eventually(lambda: redis_ready(app) == "up", 30, "/ready names Redis up again")
    finally:
        stop.set()
        worker.join(timeout=30)
        stack.up(["redis_sentinel"])  # the old master is back (as a replica) and healthy
    assert statuses, "no traffic was sent"
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
