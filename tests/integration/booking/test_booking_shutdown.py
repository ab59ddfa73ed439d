"""A stopped booking service closes its database connections with a goodbye: a process that
exits without one leaves MariaDB an "Aborted connection" warning per connection, and every
deploy then buried the database log's real warnings under the service's own."""

from __future__ import annotations

from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.booking_instances import concurrently, start_instance, stop_instance
from tests.support.mariadb_sessions import connections_on
from tests.support.polling import eventually


def test_stopping_the_service_aborts_no_database_connection(
    stack: Stack, settings: StackSettings
) -> None:
    log_file = stack.part("mariadb").process.log_file
    instance = start_instance(settings, "shutdown", redis_db=14)
    try:
        with instance.client() as client:
            concurrently(16, lambda i: instance.user_token(client, f"leaving-{i}"))
        # Each worker's pool and the background worker's hold connections: what the stop closes.
        assert connections_on(settings, instance.database) >= 2
        log_before = log_file.stat().st_size
        instance.process.stop()
        # MariaDB writes a connection's warning before the connection leaves the process list.
        gone = "the service's connections gone"
        eventually(lambda: connections_on(settings, instance.database) == 0, 30, gone)
        with log_file.open("rb") as log:
            log.seek(log_before)
            written = log.read().decode(errors="replace")
        aborted = [line for line in written.splitlines() if "Aborted connection" in line]
        assert [line for line in aborted if f"db: '{instance.database}'" in line] == []
    finally:
        stop_instance(instance)  # stopped already unless the test failed before that
