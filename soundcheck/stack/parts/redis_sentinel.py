"""Redis high availability for B9: master, replica and three sentinels as one part.

The booking service's plain Redis stays the default; the sentinel group is what the failover
drill and tests point a booking instance at (`BOOKING_REDIS_SENTINELS`). Ports: master
`redis_ha_master_port` (6380), replica `redis_ha_replica_port` (6381), sentinels
`redis_sentinel_{1,2,3}_port` (26379-26381).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import redis

from soundcheck.stack.part import NotReady, Part, find_binary

MASTER_NAME = "soundcheck"


class RedisSentinel(Part):
    name = "redis_sentinel"

    def sentinel_ports(self) -> list[int]:
        s = self.settings
        return [s.redis_sentinel_1_port, s.redis_sentinel_2_port, s.redis_sentinel_3_port]

    def sentinel_addresses(self) -> str:
        """What BOOKING_REDIS_SENTINELS takes: comma-separated host:port."""
        return ",".join(f"{self.settings.host}:{port}" for port in self.sentinel_ports())

    def port_settings(self) -> dict[str, int]:
        s = self.settings
        return {
            "redis_ha_master_port": s.redis_ha_master_port,
            "redis_ha_replica_port": s.redis_ha_replica_port,
            "redis_sentinel_1_port": s.redis_sentinel_1_port,
            "redis_sentinel_2_port": s.redis_sentinel_2_port,
            "redis_sentinel_3_port": s.redis_sentinel_3_port,
        }

    def address(self) -> str:
        return f"sentinels {self.sentinel_addresses()} master {MASTER_NAME}"

    def check_installed(self) -> None:
        find_binary("redis-server", "redis-server", self.name)
        find_binary("redis-sentinel", "redis-sentinel", self.name)

    def prepare(self) -> None:
        s = self.settings
        config = {
            "host": s.host,
            "dir": str(self.dir),
            "server": find_binary("redis-server", "redis-server", self.name),
            "sentinel": find_binary("redis-sentinel", "redis-sentinel", self.name),
            "master_name": MASTER_NAME,
            "master_port": s.redis_ha_master_port,
            "replica_port": s.redis_ha_replica_port,
            "sentinel_ports": self.sentinel_ports(),
            "down_after_ms": s.redis_sentinel_down_after_ms,
            "failover_timeout_ms": 5000,
            "restart_delay": 5.0,
        }
        (self.dir / "redis_ha.json").write_text(json.dumps(config, indent=2))

    def command(self) -> list[str]:
        return [sys.executable, "-m", "soundcheck.stack.redis_ha", str(self.dir / "redis_ha.json")]

    def probe(self) -> str:
        """Ready when a sentinel names a master that answers and has a replica attached."""
        for port in self.sentinel_ports():
            client = redis.Redis(host=self.settings.host, port=port, socket_timeout=1)
            try:
                answer = client.sentinel_master(MASTER_NAME)
            except redis.RedisError as error:
                raise NotReady(f"sentinel on {port} does not answer: {error}") from error
            finally:
                client.close()
            fields: dict[str, Any] = answer if isinstance(answer, dict) else {}
            replicas = int(fields.get("num-slaves", 0))
            others = int(fields.get("num-other-sentinels", 0))
            if replicas < 1 or others < 2:
                raise NotReady(
                    f"sentinel on {port} sees {replicas} replica(s) and {others} other sentinel(s)"
                )
        master_port = int(fields["port"])
        data = redis.Redis(host=self.settings.host, port=master_port, socket_timeout=1)
        try:
            return str(data.info("server")["redis_version"])
        except redis.RedisError as error:
            raise NotReady(f"the master on {master_port} does not answer: {error}") from error
        finally:
            data.close()
