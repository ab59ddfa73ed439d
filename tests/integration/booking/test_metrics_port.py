"""Metrics are served where requests cannot queue in front of them.

Every request thread of an instance is held inside MariaDB (a test session holds a table lock
the requests need), as a ticket opening holds them waiting on MariaDB; the metrics process
still answers a scrape with every worker's series, the pool in full use, and every held request
completes afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pymysql
import pytest

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack
from tests.support.booking_instances import (
    BookingInstance,
    metrics_process_port,
    start_instance,
    stop_instance,
)
from tests.support.polling import eventually

WORKERS, THREADS = 1, 4  # a narrow instance: every thread is surely held
HELD_REQUESTS = WORKERS * THREADS + 2  # and two more requests queued behind them


@pytest.fixture
def narrow(stack: Stack, settings: StackSettings) -> Iterator[BookingInstance]:
    instance = start_instance(
        settings,
        "metrics",
        redis_db=9,
        BOOKING_WORKERS=str(WORKERS),
        BOOKING_THREADS=str(THREADS),
        # A pool as large as the threads (the default's rule), and the background worker with a
        # pool of its own that the pool gauges must leave out.
        BOOKING_POOL_SIZE=str(THREADS),
        BOOKING_RUN_WORKER="true",
    )
    yield instance
    stop_instance(instance)


def sample(scrape: str, name: str) -> float:
    (line,) = [line for line in scrape.splitlines() if line.startswith(f"{name} ")]
    return float(line.split()[1])


def waiting_on_lock(instance: BookingInstance) -> int:
    """MariaDB sessions of the instance's database waiting for the table lock we hold."""
    rows = instance.sql(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s AND STATE LIKE %s",
        instance.database,
        "Waiting for table%lock",
    )
    return int(rows[0][0])


def test_metrics_port_answers_while_every_request_thread_waits_on_mariadb(
    narrow: BookingInstance, settings: StackSettings
) -> None:
    port = eventually(lambda: metrics_process_port(narrow.process), 60, "the metrics process")
    metrics_url = f"http://{settings.host}:{port}/metrics"
    with narrow.client() as client:
        users = [f"held-{uuid.uuid4().hex[:8]}-{i}" for i in range(HELD_REQUESTS)]
        headers = {user: narrow.as_user(client, user) for user in users}

    def charge(user: str) -> int:
        with narrow.client(timeout=120) as client:
            answer = client.post(
                f"/users/{user}/points/charge", headers=headers[user], json={"amount": 100}
            )
            return answer.status_code

    lock: pymysql.Connection = app_connection(settings, narrow.database)
    with lock, lock.cursor() as cursor, ThreadPoolExecutor(HELD_REQUESTS) as pool:
        cursor.execute("LOCK TABLES user_points WRITE")
        try:
            answers = [pool.submit(charge, user) for user in users]
            eventually(
                lambda: waiting_on_lock(narrow) >= WORKERS * THREADS,
                60,
                f"all {WORKERS * THREADS} request threads waiting inside MariaDB",
            )
            scrape = httpx.get(metrics_url, timeout=4.0)  # Prometheus's scrape timeout
            assert scrape.status_code == 200
            assert "http_requests_total{" in scrape.text, "every worker's series, not an empty page"
            # Every request thread holds a connection: the pool gauges say "full", counting the
            # web workers' pools only (the background worker's would keep it under 100 %).
            assert sample(scrape.text, "db_pool_size") == WORKERS * THREADS
            assert sample(scrape.text, "db_pool_connections_in_use") == WORKERS * THREADS
            assert not any(answer.done() for answer in answers), "the requests were held"
        finally:
            cursor.execute("UNLOCK TABLES")
        assert [answer.result() for answer in answers] == [200] * HELD_REQUESTS
