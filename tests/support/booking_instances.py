"""Booking service instances for the tests: the real app (gunicorn + worker) on the real stack.

Each instance gets its own database, Redis database number, Kafka topic prefix, port and admin
token, so tests can shorten timings (breaker reset, activation interval, pool size) without
touching the stack's own booking service, and leave nothing behind.

They start through `soundcheck.stack.side_booking` (as the redis-failover drill's instance does):
the kernel picks the port as gunicorn binds (that module says why a "free" port picked first is a
race: a fuzzer once rewrote prices in a service that was not its own). The per-instance admin
token keeps even a misdirected admin call from writing anywhere else.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
import redis

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import fresh_database
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.process import ManagedProcess
from soundcheck.stack.side_booking import side_directory, start_side_booking
from tests.support.polling import eventually

SEAT_PRICE = 50000


def metrics_process_port(process: ManagedProcess) -> int | None:
    """The port of the instance's metrics process (`python -m booking_app metrics`), once it
    listens: the instance asks for `:0` too, so the kernel picks it."""
    master = process.process()
    if master is None:
        return None
    for child in master.children():
        try:
            if child.cmdline()[-1:] == ["metrics"]:
                for sock in child.net_connections(kind="tcp"):
                    if sock.status == psutil.CONN_LISTEN:
                        return int(sock.laddr.port)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return None


@dataclass
class BookingInstance:
    name: str
    url: str
    database: str
    settings: StackSettings
    process: ManagedProcess
    env: dict[str, str]
    # The token each user got: the service hands a user's token out only once (B12).
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def admin_token(self) -> str:
        """This instance's own admin bearer token (no other instance accepts it)."""
        return self.env["BOOKING_ADMIN_TOKEN"]

    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def client(self, timeout: float = 30.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout)

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with app_connection(self.settings, self.database) as conn, conn.cursor() as cursor:
            cursor.execute(query, params or None)
            return list(cursor.fetchall())

    def metric(self, line_prefix: str) -> float | None:
        """The value of the first /metrics sample line starting with `line_prefix`."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        for line in text.splitlines():
            if line.startswith(line_prefix):
                return float(line.rsplit(" ", 1)[1])
        return None

    # --- what most tests do first -----------------------------------------------------------
    def token_status(self, client: httpx.Client, token: str) -> str:
        answer = client.get("/queue/status", headers={"X-Queue-Token": token})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["status"])

    def user_token(self, client: httpx.Client, user_id: str) -> str:
        """The user's live (WAITING or ACTIVE) token: the one they hold, else a new one."""
        held = self.tokens.get(user_id)
        if held is not None and self.token_status(client, held) in ("WAITING", "ACTIVE"):
            return held
        answer = client.post("/queue/token", json={"userId": user_id})
        assert answer.status_code == 201, answer.text
        token = str(answer.json()["tokenValue"])
        self.tokens[user_id] = token
        return token

    def as_user(self, client: httpx.Client, user_id: str) -> dict[str, str]:
        """Headers that say who calls: the user's own queue token."""
        return {"X-Queue-Token": self.user_token(client, user_id)}

    def active_token(self, client: httpx.Client, user_id: str) -> str:
        """The user's token once ACTIVE. With room, a token is ACTIVE at once, or, when its
        request found the activation lock taken (by the worker's timer, a payment), within
        milliseconds, once the lock's holder commits (queue_statements.settle)."""
        token = self.user_token(client, user_id)
        eventually(
            lambda: self.token_status(client, token) == "ACTIVE",
            5,
            f"the token of {user_id} ACTIVE (the queue may be full)",
        )
        return token

    def charge(self, client: httpx.Client, user_id: str, amount: int) -> None:
        answer = client.post(
            f"/users/{user_id}/points/charge",
            headers=self.as_user(client, user_id),
            json={"amount": amount},
        )
        assert answer.status_code == 200, answer.text

    def reserve(
        self,
        client: httpx.Client,
        token: str,
        user_id: str,
        seat_no: int,
        schedule_id: str = "schedule_1",
    ) -> dict[str, Any]:
        answer = client.post(
            "/reservations",
            headers={"X-Queue-Token": token},
            json={"userId": user_id, "scheduleId": schedule_id, "seatNo": seat_no},
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def balance(self, client: httpx.Client, user_id: str) -> int:
        answer = client.get(f"/users/{user_id}/points", headers=self.as_user(client, user_id))
        assert answer.status_code == 200, answer.text
        return int(answer.json()["balance"])

    def wait_until_back_on_redis(self) -> None:
        """After a Redis outage: every process's breaker closed and degraded mode left (the
        gauges are the maximum over processes). /ready answering "up" speaks for one worker
        only; a later test meeting another worker still degraded would race on in-process
        locks and could double-book."""
        eventually(
            lambda: (
                self.metric('circuit_breaker_state{breaker="redis"}') == 0.0
                and self.metric('degraded_mode_active{component="redis"}') == 0.0
            ),
            90,
            f"every process of {self.name} back on Redis (breakers closed, not degraded)",
        )


def start_instance(
    settings: StackSettings,
    name: str,
    redis_db: int,
    share_with: BookingInstance | None = None,
    **overrides: str,
) -> BookingInstance:
    """A new instance with its own database, Redis database and topics; or, `share_with` an
    instance, one more copy of that service with its settings, on the same database, Redis and
    topics (without a background worker: the first one's relay and timers serve both)."""
    if share_with is None:
        database = f"{settings.mariadb_database}_bt_{name}"
        fresh_database(settings, database)
        redis.Redis(host=settings.host, port=settings.redis_port, db=redis_db).flushdb()
        shared = {
            "BOOKING_TOPIC_PREFIX": f"test-{name}-{uuid.uuid4().hex[:8]}.",
            "BOOKING_ADMIN_TOKEN": f"test-admin-{name}-{uuid.uuid4().hex}",
        }
    else:
        database = share_with.database
        own = ("BOOKING_BIND", "BOOKING_METRICS_BIND")
        shared = {k: v for k, v in share_with.env.items() if k.startswith("BOOKING_")}
        shared = {k: v for k, v in shared.items() if k not in own}
        shared["BOOKING_RUN_WORKER"] = "false"
    side = start_side_booking(
        settings,
        side_directory(settings, "booking-tests", name),
        database,
        {
            "BOOKING_REDIS_DB": str(redis_db),
            **shared,
            "BOOKING_WORKERS": "2",
            "BOOKING_KAFKA_DELIVERY_TIMEOUT_MS": "3000",
            **overrides,
        },
    )
    return BookingInstance(name, side.url, database, settings, side.process, side.env)


def stop_instance(instance: BookingInstance) -> None:
    instance.process.stop()
    instance.sql(f"DROP DATABASE IF EXISTS `{instance.database}`")


def concurrently(count: int, job: Any) -> list[Any]:
    """Run `job(i)` for i in range(count) at the same time; the results in order."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(job, range(count)))
