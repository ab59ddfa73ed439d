"""`expire_queue_tokens`, the one way load runs, drills and tests give back the queue places their
users hold: by user id prefix, in the stack's MariaDB, as the service's own expiry does."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import expire_queue_tokens
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack


@pytest.fixture
def tokens(stack: Stack, settings: StackSettings) -> Iterator[dict[str, str]]:
    """Tokens of this test's users (user id -> status), deleted at the end: an ACTIVE one holds
    one of the stack's queue places until it expires (in a minute at the latest)."""
    run = uuid.uuid4().hex[:8]
    prefix = f"expiry_{run}-"
    wanted = {
        f"{prefix}1": "WAITING",
        f"{prefix}2": "ACTIVE",
        f"{prefix}3": "EXPIRED",
        f"expiryX{run}-4": "ACTIVE",  # matches the prefix if `_` were a LIKE wildcard
        f"other-{prefix}5": "ACTIVE",  # holds the prefix, does not start with it
    }
    with app_connection(settings, settings.mariadb_database) as conn, conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO queue_tokens (token, user_id, status, created_at, expires_at) VALUES "
            "(%s, %s, %s, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL 60 SECOND)",
            [(uuid.uuid4().hex, user, status) for user, status in wanted.items()],
        )
    yield {"prefix": prefix, **wanted}
    with app_connection(settings, settings.mariadb_database) as conn, conn.cursor() as cursor:
        cursor.execute("DELETE FROM queue_tokens WHERE user_id IN %s", (list(wanted),))


def statuses(settings: StackSettings, users: list[str]) -> dict[str, tuple[str, bool]]:
    """Per user: the token's status and whether it has expired by the clock."""
    with app_connection(settings, settings.mariadb_database) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT user_id, status, expires_at <= UTC_TIMESTAMP(6) FROM queue_tokens "
            "WHERE user_id IN %s",
            (users,),
        )
        return {user: (status, bool(due)) for user, status, due in cursor.fetchall()}


def test_a_prefix_expires_its_users_waiting_and_active_tokens_and_no_one_elses(
    settings: StackSettings, tokens: dict[str, str]
) -> None:
    prefix = tokens.pop("prefix")
    assert expire_queue_tokens(settings, prefix) == 2
    assert statuses(settings, list(tokens)) == {
        f"{prefix}1": ("EXPIRED", True),
        f"{prefix}2": ("EXPIRED", True),
        f"{prefix}3": ("EXPIRED", False),  # already expired: left as it was
        **{user: ("ACTIVE", False) for user in tokens if not user.startswith(prefix)},
    }
    assert expire_queue_tokens(settings, prefix) == 0, "a second call changes nothing"


def test_an_empty_prefix_is_refused_not_taken_as_every_user(settings: StackSettings) -> None:
    with pytest.raises(ValueError, match="user prefix"):
        expire_queue_tokens(settings, "")
