"""The pure parts of the queue's statements and of the engine's connect arguments."""

from __future__ import annotations

from booking_app.db import connect_arguments
from booking_app.queue_statements import ACTIVE, WAITING, position


def test_position_is_the_distance_to_the_oldest_waiting_token() -> None:
    assert position(17, WAITING, 10) == 8


def test_first_waiting_token_is_next_even_before_it_is_seen_as_oldest() -> None:
    assert position(17, WAITING, None) == 1  # read before its own insert: no WAITING token yet


def test_active_token_has_no_place_in_the_queue() -> None:
    assert position(17, ACTIVE, 10) == 0


def test_local_mariadb_is_reached_without_tls() -> None:
    assert connect_arguments("mysql+pymysql://u:p@127.0.0.1:3306/d")["ssl_disabled"] is True


def test_remote_mariadb_keeps_the_drivers_tls_default() -> None:
    assert "ssl_disabled" not in connect_arguments("mysql+pymysql://u:p@db.example:3306/d")


def test_mysqlclient_gets_only_arguments_it_takes() -> None:
    # mysqlclient refuses PyMySQL's ssl_disabled; on Connector/C, TLS is used only when asked.
    arguments = connect_arguments("mysql+mysqldb://u:p@127.0.0.1:3306/d")
    assert arguments == {"connect_timeout": 3, "read_timeout": 30, "write_timeout": 30}
