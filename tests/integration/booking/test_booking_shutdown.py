"""A stopped booking service closes its database connections with a goodbye: a process that
exits without one leaves MariaDB an "Aborted connection" warning per connection, and every
deploy then buried the database log's real warnings under the service's own."""

from __future__ import annotations

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack
from tests.support.booking_instances import BookingInstance, concurrently, start_instance
from tests.support.polling import eventually


def connections_to(instance: BookingInstance) -> int:
    # Counted from another database: the instance's own is dropped at the end.
    with app_connection(instance.settings, None) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = %s",
            (instance.database,),
        )
        return int(cursor.fetchone()[0])


def test_stopping_the_service_aborts_no_database_connection(
    stack: Stack, settings: StackSettings
) -> None:
    log_file = stack.part("mariadb").process.log_file
    instance = start_instance(settings, "shutdown", redis_db=14)
    try:
        with instance.client() as client:
            concurrently(16, lambda i: instance.user_token(client, f"leaving-{i}"))
        # Each worker's pool and the background worker's hold connections: what the stop closes.
        assert connections_to(instance) >= 2
        log_before = log_file.stat().st_size
        instance.process.stop()
        # MariaDB writes a connection's warning before the connection leaves the process list.
        eventually(lambda: connections_to(instance) == 0, 30, "the service's connections gone")
        with log_file.open("rb") as log:
            log.seek(log_before)
            written = log.read().decode(errors="replace")
        aborted = [line for line in written.splitlines() if "Aborted connection" in line]
        assert [line for line in aborted if f"db: '{instance.database}'" in line] == []
    finally:
        instance.process.stop()
        instance.sql(f"DROP DATABASE IF EXISTS `{instance.database}`")
