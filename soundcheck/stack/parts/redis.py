"""Redis from the Debian package, its data (append-only file) under `.soundcheck/redis/`."""

from __future__ import annotations

import redis

from soundcheck.stack.part import NotReady, Part, find_binary


class Redis(Part):
    name = "redis"

    def port_settings(self) -> dict[str, int]:
        return {"redis_port": self.settings.redis_port}

    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.redis_port}"

    def check_installed(self) -> None:
        find_binary("redis-server", "redis-server", self.name)

    def command(self) -> list[str]:
        return [
            find_binary("redis-server", "redis-server", self.name),
            "--port",
            str(self.settings.redis_port),
            "--bind",
            self.settings.host,
            "--dir",
            str(self.dir),
            "--daemonize",
            "no",
            "--logfile",
            "",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
        ]

    def probe(self) -> str:
        client = redis.Redis(
            host=self.settings.host,
            port=self.settings.redis_port,
            socket_connect_timeout=1,
            socket_timeout=1,
        )
        try:
            info = client.info("server")
        except redis.RedisError as error:
            raise NotReady(f"no PING answer on {self.address()}: {error}") from error
        finally:
            client.close()
        return str(info["redis_version"])
