"""A local Redis Sentinel group (B9): master, replica and three sentinels, kept alive together.

Run as `python -m soundcheck.stack.redis_ha CONFIG.json` by the `redis_sentinel` part: one process
group the stack starts and stops as one part. A member that dies (a drill kills the master) is
started again after `restart_delay` seconds, as a replica of whatever master the sentinels name
by then, the way an operator would bring a failed node back.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import redis


@dataclass
class Member:
    name: str
    argv: list[str]
    port: int
    is_data_node: bool
    process: subprocess.Popen[bytes] | None = None
    died_at: float | None = None


def data_node_argv(server: str, host: str, port: int, directory: Path) -> list[str]:
    return [
        server,
        "--port",
        str(port),
        "--bind",
        host,
        "--dir",
        str(directory),
        "--daemonize",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--logfile",
        "",
        "--dbfilename",
        f"dump-{port}.rdb",
    ]


def sentinel_config(
    host: str,
    port: int,
    master_name: str,
    master_port: int,
    directory: Path,
    down_after_ms: int,
    failover_timeout_ms: int,
) -> Path:
    path = directory / f"sentinel-{port}.conf"
    path.write_text(
        f'port {port}\nbind {host}\ndaemonize no\ndir {directory}\nlogfile ""\n'
        f"sentinel monitor {master_name} {host} {master_port} 2\n"
        f"sentinel down-after-milliseconds {master_name} {down_after_ms}\n"
        f"sentinel failover-timeout {master_name} {failover_timeout_ms}\n"
        f"sentinel parallel-syncs {master_name} 1\n"
    )
    return path


def current_master(host: str, sentinel_ports: list[int], name: str) -> tuple[str, int] | None:
    for port in sentinel_ports:
        try:
            client = redis.Redis(host=host, port=port, socket_timeout=0.5)
            address = client.sentinel_get_master_addr_by_name(name)
            client.close()
        except redis.RedisError:
            continue
        if isinstance(address, tuple | list):
            host_name = address[0]
            return (
                host_name.decode() if isinstance(host_name, bytes) else str(host_name),
                int(address[1]),
            )
    return None


def main(config_file: str) -> int:
    config = json.loads(Path(config_file).read_text())
    host, name = config["host"], config["master_name"]
    directory = Path(config["dir"])
    directory.mkdir(parents=True, exist_ok=True)
    master_port, replica_port = config["master_port"], config["replica_port"]
    sentinel_ports: list[int] = config["sentinel_ports"]
    members = [
        Member(
            "master",
            data_node_argv(config["server"], host, master_port, directory),
            master_port,
            True,
        ),
        Member(
            "replica",
            [
                *data_node_argv(config["server"], host, replica_port, directory),
                "--replicaof",
                host,
                str(master_port),
            ],
            replica_port,
            True,
        ),
    ]
    for port in sentinel_ports:
        conf = sentinel_config(
            host,
            port,
            name,
            master_port,
            directory,
            config["down_after_ms"],
            config["failover_timeout_ms"],
        )
        members.append(Member(f"sentinel-{port}", [config["sentinel"], str(conf)], port, False))
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for member in members:
        member.process = subprocess.Popen(member.argv)
    while not stopping:
        time.sleep(0.2)
        for member in members:
            if member.process is not None and member.process.poll() is not None:
                print(f"redis_ha: {member.name} (port {member.port}) exited", flush=True)
                member.process, member.died_at = None, time.monotonic()
            if (
                member.process is None
                and member.died_at is not None
                and (time.monotonic() - member.died_at >= config["restart_delay"])
            ):
                argv = list(member.argv)
                if member.is_data_node:
                    # Come back as a replica of the master the sentinels elected meanwhile.
                    argv = [a for a in argv if a != "--replicaof"][
                        : len(data_node_argv(config["server"], host, member.port, directory))
                    ]
                    master = current_master(host, sentinel_ports, name)
                    if master is not None and master[1] != member.port:
                        argv += ["--replicaof", master[0], str(master[1])]
                print(f"redis_ha: restarting {member.name}", flush=True)
                member.process, member.died_at = subprocess.Popen(argv), None
    for member in members:
        if member.process is not None:
            member.process.terminate()
    for member in members:
        if member.process is not None:
            member.process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
