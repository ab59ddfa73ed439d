"""Scaling out: two booking instances on one MariaDB / Redis / Kafka behind
HAProxy share the load, and a seat contended through both is still sold once.

The balancer listens on a Unix socket in the test's directory: no TCP port to race for.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from soundcheck.settings import StackSettings
from soundcheck.stack.part import find_binary
from soundcheck.stack.parts.balancer import haproxy_config
from soundcheck.stack.process import ManagedProcess
from tests.support.booking_instances import (
    BookingInstance,
    concurrently,
    metrics_process_port,
    start_instance,
)
from tests.support.polling import eventually

CONTENDERS = 24
SCHEDULE = "schedule_3"
RESERVATIONS = 'http_requests_total{handler="/reservations",method="POST"'


@pytest.fixture(scope="module")
def pair(booking: BookingInstance, settings: StackSettings) -> Iterator[list[BookingInstance]]:
    """The session's instance and a second copy of it on the same database, Redis and topics."""
    # Its Redis database, topics, admin token and timings are the session instance's.
    second = start_instance(settings, "scale-2", redis_db=0, share_with=booking)
    yield [booking, second]
    second.process.stop()


@pytest.fixture(scope="module")
def balancer(pair: list[BookingInstance], settings: StackSettings) -> Iterator[Path]:
    """HAProxy over the pair; the path of its socket."""
    directory = settings.home / "booking-tests" / "scale-balancer"
    directory.mkdir(parents=True, exist_ok=True)
    socket = directory / "haproxy.sock"
    socket.unlink(missing_ok=True)
    servers = [(i.name, i.url.removeprefix("http://")) for i in pair]
    config = directory / "haproxy.cfg"
    config.write_text(haproxy_config(f"unix@{socket}", servers))
    process = ManagedProcess(directory)
    process.stop()
    process.start([find_binary("haproxy", "haproxy", "balancer"), "-db", "-f", str(config)], {})
    try:
        eventually(lambda: up(socket), 60, lambda: f"HAProxy answers:\n{process.log_tail(5)}")
        yield socket
    finally:
        process.stop()


def through(socket: Path) -> httpx.Client:
    """A client (one connection) through the balancer's socket."""
    return httpx.Client(
        transport=httpx.HTTPTransport(uds=str(socket)), base_url="http://balancer", timeout=60
    )


def up(socket: Path) -> bool:
    try:
        with through(socket) as client:
            return client.get("/health").status_code == 200
    except httpx.HTTPError:
        return False


def reservations_served(instance: BookingInstance, settings: StackSettings) -> float:
    """POST /reservations answered by this instance, from its own metrics process."""
    port = eventually(lambda: metrics_process_port(instance.process), 60, "metrics process")
    text = httpx.get(f"http://{settings.host}:{port}/metrics", timeout=10).text
    lines = [line for line in text.splitlines() if line.startswith(RESERVATIONS)]
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines)


def test_two_instances_share_the_load_and_sell_a_seat_once(
    pair: list[BookingInstance], balancer: Path, settings: StackSettings
) -> None:
    first, _ = pair
    # The highest free seat of a schedule: the session instance's other tests keep to low ones.
    ((seat_no,),) = first.sql(
        "SELECT MAX(seat_no) FROM seats WHERE schedule_id = %s AND status = 'AVAILABLE'", SCHEDULE
    )
    served_before = [reservations_served(instance, settings) for instance in pair]
    run = uuid.uuid4().hex[:8]
    tokens = {}
    with through(balancer) as client:
        for n in range(CONTENDERS):
            user = f"scale-{run}-{n}"
            answer = client.post("/queue/token", json={"userId": user})
            assert answer.status_code == 201, answer.text
            tokens[user] = answer.json()["tokenValue"]
    users = sorted(tokens)

    def reserve(n: int) -> int:
        # A connection each, so HAProxy balances every request (leastconn).
        with through(balancer) as client:
            return client.post(
                "/reservations",
                headers={"X-Queue-Token": tokens[users[n]]},
                json={"userId": users[n], "scheduleId": SCHEDULE, "seatNo": seat_no},
            ).status_code

    statuses = concurrently(CONTENDERS, reserve)
    assert sorted(statuses) == [201] + [409] * (CONTENDERS - 1), statuses
    live = first.sql(
        "SELECT COUNT(*) FROM reservations r JOIN seats s ON s.id = r.seat_id "
        "WHERE s.schedule_id = %s AND s.seat_no = %s AND r.status IN ('HELD', 'CONFIRMED')",
        SCHEDULE,
        seat_no,
    )
    assert live == [(1,)]
    served = [
        reservations_served(instance, settings) - before
        for instance, before in zip(pair, served_before, strict=True)
    ]
    assert all(count > 0 for count in served), f"POST /reservations per instance: {served}"
    assert sum(served) == CONTENDERS
