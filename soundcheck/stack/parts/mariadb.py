"""MariaDB from the Debian package, with its own datadir and a `soundcheck` database."""

from __future__ import annotations

import getpass
from pathlib import Path

import pymysql
from pydantic import SecretStr
from pymysql.cursors import Cursor

from soundcheck.settings import StackSettings
from soundcheck.stack.part import NotReady, Part, find_binary


def app_connection(
    settings: StackSettings, database: str | None = None, autocommit: bool = True
) -> pymysql.connections.Connection:
    """A TCP connection as the stack's application user (the one the booking app uses)."""
    return pymysql.connect(
        host=settings.host,
        port=settings.mariadb_port,
        user=settings.mariadb_user,
        password=settings.mariadb_password.get_secret_value(),
        database=database,
        autocommit=autocommit,
    )


class MariaDB(Part):
    name = "mariadb"

    @property
    def datadir(self) -> Path:
        return self.dir / "data"

    @property
    def socket_path(self) -> str:
        return str(self.dir / "mariadb.sock")

    def port_settings(self) -> dict[str, int]:
        return {"mariadb_port": self.settings.mariadb_port}

    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.mariadb_port}"

    def check_installed(self) -> None:
        find_binary("mariadbd", "mariadb-server", self.name)
        find_binary("mariadb-install-db", "mariadb-server", self.name)

    def prepare(self) -> None:
        if (self.datadir / "mysql").is_dir():
            return
        # Root gets no password but is reachable only through our own socket file; the
        # application user with a password is created in after_ready().
        self.run_once(
            f"mariadb-install-db into {self.datadir}",
            [
                find_binary("mariadb-install-db", "mariadb-server", self.name),
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--user={getpass.getuser()}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
        )

    def command(self) -> list[str]:
        return [
            find_binary("mariadbd", "mariadb-server", self.name),
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--socket={self.socket_path}",
            f"--pid-file={self.dir / 'mariadbd.pid'}",
            f"--port={self.settings.mariadb_port}",
            f"--bind-address={self.settings.host}",
            f"--user={getpass.getuser()}",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--max-connections=500",
            "--innodb-buffer-pool-size=256M",
            "--innodb-flush-log-at-trx-commit=1",
            # Every deadlock's two transactions in the error log, not only the latest in
            # SHOW ENGINE INNODB STATUS: a deadlock victim that answered 503 left no trace here.
            "--innodb-print-all-deadlocks=ON",
            # A router store on this server takes webhooks up to the router's 16 MiB body limit:
            # the stored body and its alerts go in one insert each (docs/router.md).
            "--max-allowed-packet=64M",
        ]

    def _root(self) -> pymysql.connections.Connection:
        return pymysql.connect(unix_socket=self.socket_path, user="root", connect_timeout=1)

    def probe(self) -> str:
        try:
            with self._root() as conn, conn.cursor() as cursor:
                cursor.execute("SELECT VERSION()")
                row = cursor.fetchone()
        except pymysql.MySQLError as error:
            raise NotReady(f"no SQL answer on {self.socket_path}: {error}") from error
        return str(row[0]).split("-")[0] if row else "?"

    def after_ready(self) -> None:
        """Create the database and the application user; re-applies a changed password."""
        s = self.settings
        password = s.mariadb_password.get_secret_value()
        with self._root() as conn, conn.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{s.mariadb_database}`")
            for host in ("127.0.0.1", "localhost"):
                cursor.execute("CREATE USER IF NOT EXISTS %s@%s", (s.mariadb_user, host))
                cursor.execute(
                    "ALTER USER %s@%s IDENTIFIED BY %s", (s.mariadb_user, host, password)
                )
                # `soundcheck%` lets tests make throwaway databases next to the real one.
                cursor.execute(
                    f"GRANT ALL PRIVILEGES ON `{s.mariadb_database}%%`.* TO %s@%s",
                    (s.mariadb_user, host),
                )
            create_exporter_user(cursor, s.mysqld_exporter_user, s.mysqld_exporter_password)
            conn.commit()


def create_exporter_user(cursor: Cursor, user: str, password: SecretStr) -> None:
    """The mysqld exporter's login: reads status and the process list, touches no data."""
    for host in ("127.0.0.1", "localhost"):
        cursor.execute("CREATE USER IF NOT EXISTS %s@%s", (user, host))
        cursor.execute(
            "ALTER USER %s@%s IDENTIFIED BY %s WITH MAX_USER_CONNECTIONS 3",
            (user, host, password.get_secret_value()),
        )
        cursor.execute(
            "GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO %s@%s", (user, host)
        )
        cursor.execute("GRANT SELECT ON performance_schema.* TO %s@%s", (user, host))
