"""B3/B8: each seat guard on its own, with the race forced rather than hoped for.

Concurrent requests overlap only by chance; here they always do (`forced_overlap.py`: the test
holds the seat's row while the contenders arrive and counts those waiting inside the database).

- Redis up: the Redis seat lock lets exactly one contender into the database at a time.
- Redis down (degraded): the in-process lock lets at most one contender per worker process in,
  and with several workers inside at once, the database alone must leave exactly one winner.

Breaking one guard (the Redis lock, the in-process lock, or the database's conditional update
plus unique live reservation) fails a test on every run, not now and then.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import httpx
import pytest

from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.booking_instances import BookingInstance, start_instance, stop_instance
from tests.support.forced_overlap import overlap

WEB_WORKERS = 3
CONTENDERS = 24
SCHEDULE = "schedule_2"


@pytest.fixture(scope="module")
def racing(stack: Stack, settings: StackSettings) -> Iterator[BookingInstance]:
    instance = start_instance(
        settings,
        "race",
        redis_db=8,
        BOOKING_WORKERS=str(WEB_WORKERS),
        BOOKING_MAX_ACTIVE_TOKENS="1000",
        # A lock holder may wait on the test's row lock for long: its Redis lock must outlive
        # that, or a second contender would get in by the lock's expiry, not by a broken guard.
        BOOKING_LOCK_TTL_MS="300000",
        BOOKING_LOCK_WAIT_MS="2000",
        BOOKING_REDIS_TIMEOUT_SECONDS="0.5",
        BOOKING_BREAKER_VOLUME_THRESHOLD="5",
        BOOKING_BREAKER_RESET_SECONDS="2",
    )
    yield instance
    stop_instance(instance)


@dataclass
class Race:
    statuses: list[int]
    errors: list[str]
    inside_at_once: int  # contenders inside the reservation's transaction together
    live_reservations: int  # of the seat, in the database afterwards


def race_for_seat(instance: BookingInstance, seat_no: int, tokens: dict[str, str]) -> Race:
    (seat_id,) = instance.sql(
        "SELECT id FROM seats WHERE schedule_id = %s AND seat_no = %s", SCHEDULE, seat_no
    )[0]

    def attempt(user: str) -> httpx.Response:
        with instance.client(timeout=120) as client:  # a client (connection) each: all workers
            return client.post(
                "/reservations",
                headers={"X-Queue-Token": tokens[user]},
                json={"userId": user, "scheduleId": SCHEDULE, "seatNo": seat_no},
            )

    result = overlap(
        instance,
        "seats",
        seat_id,
        [partial(attempt, user) for user in tokens],
        # Past the lock, a contender's first statement is the seat's conditional UPDATE.
        [
            f"UPDATE seats SET status=%WHERE seats.id = {seat_id}",
            f"UPDATE seats SET status=%WHERE seats.id = {seat_id} %",
            "INSERT INTO reservations%",
        ],
    )
    live = instance.sql(
        "SELECT COUNT(*) FROM reservations WHERE seat_id = %s AND status <> 'EXPIRED'", seat_id
    )[0][0]
    return Race(result.statuses, result.errors, result.inside_at_once, int(live))


def tokens_for(instance: BookingInstance, prefix: str) -> dict[str, str]:
    users = [f"{prefix}-{i}" for i in range(CONTENDERS)]
    with instance.client() as client:
        return {user: instance.active_token(client, user) for user in users}


def assert_one_winner(race: Race) -> None:
    assert race.statuses.count(201) == 1, race
    assert race.statuses.count(409) == CONTENDERS - 1, race
    assert set(race.errors) <= {"seat_taken", "seat_busy"}, race
    assert race.live_reservations == 1, race


def test_redis_seat_lock_lets_one_contender_at_a_time_into_the_database(
    racing: BookingInstance,
) -> None:
    race = race_for_seat(racing, 1, tokens_for(racing, "race-redis"))
    assert race.inside_at_once == 1, f"the Redis seat lock let several in: {race}"
    assert_one_winner(race)


def test_with_redis_down_one_contender_per_worker_gets_in_and_the_database_keeps_one_winner(
    racing: BookingInstance, stack: Stack
) -> None:
    tokens = [tokens_for(racing, f"race-degraded-{round_}") for round_ in range(4)]
    stack.stop(["redis"])
    try:
        races = []
        # Contenders spread over the workers by the kernel; a round where all of them landed on
        # one worker tests the database nothing, so a few rounds until two workers overlap.
        for round_, round_tokens in enumerate(tokens):
            race = race_for_seat(racing, 11 + round_, round_tokens)
            races.append(race)
            assert race.inside_at_once <= WEB_WORKERS, (
                f"more contenders inside than worker processes: the in-process lock is broken: "
                f"{race}"
            )
            assert_one_winner(race)
            if race.inside_at_once >= 2:
                break
        print(f"contenders inside at once per round: {[r.inside_at_once for r in races]}")
        assert max(r.inside_at_once for r in races) >= 2, (
            f"never two workers inside at once, the database guard went untested: {races}"
        )
    finally:
        stack.up(["redis"])
    racing.wait_until_back_on_redis()
