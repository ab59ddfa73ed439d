"""Plan §4-1, Redis high availability: a booking service on the Sentinel group (master, replica,
three sentinels; the `redis_sentinel` part), its master SIGKILLed under traffic. The fault action
times the failover (kill → the sentinels name a new master that takes writes); the repair waits
for the group to be whole again (the killed node restarted by the group's supervisor as a replica
of the new master, its link up), restarting the part if it must, and stops the side instance.

The side instance shares the stack's database and topics (the stack's background worker relays
its outbox events) but not its Redis: its seat locks, cache and breaker live on the group."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import redis

from soundcheck.drill.actions import DrillContext, Finding
from soundcheck.drill.definition import DrillError
from soundcheck.drill.verdicts import check
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.prometheus import Prometheus
from soundcheck.stack.parts.redis_sentinel import MASTER_NAME, RedisSentinel
from soundcheck.stack.process import ManagedProcess
from soundcheck.stack.side_booking import side_directory, start_side_booking
from soundcheck.stack.stack import Stack

INSTANCE = "booking-on-sentinel"
FAILOVER_TARGET_SECONDS = 30.0  # plan §4-1: "Master 장애 시 30초 이내 자동 Failover"
FAILOVER_WAIT_SECONDS = 90.0
WHOLE_WITHIN_SECONDS = 90.0


def sentinel_group(stack: Stack) -> RedisSentinel:
    part = stack.part("redis_sentinel")
    if not isinstance(part, RedisSentinel):
        raise DrillError("The stack has no Redis Sentinel group (the redis_sentinel part).")
    return part


def instance_directory(settings: StackSettings) -> Path:
    return side_directory(settings, "drills", INSTANCE)


def scrape_target_file(stack: Stack) -> Path | None:
    """The file that makes the side instance one more target of Prometheus's job `booking`, so
    the booking alerts judge it as they judge the stack's own (None on a stack without one)."""
    part = stack.parts.get("prometheus")
    if not isinstance(part, Prometheus):
        return None
    return part.booking_targets_dir / f"drill-{INSTANCE}.json"


def start_booking_on_sentinel(context: DrillContext, workers: int = 2) -> str:
    """A booking service on the Sentinel group (otherwise the stack's defaults), the target of
    the drill's traffic, scraped by Prometheus as part of job `booking` while it runs; its own
    background worker off (the stack's relays the shared outbox)."""
    settings = context.stack.settings
    group = sentinel_group(context.stack)
    side = start_side_booking(
        settings,
        instance_directory(settings),
        settings.mariadb_database,
        {
            "BOOKING_REDIS_SENTINELS": group.sentinel_addresses(),
            "BOOKING_RUN_WORKER": "false",
            "BOOKING_WORKERS": str(workers),
        },
    )
    context.traffic_target = side.url
    targets = scrape_target_file(context.stack)
    if targets is not None:
        targets.write_text(json.dumps([{"targets": [side.url.removeprefix("http://")]}]))
    return f"booking service on the Sentinel group at {side.url}"


def stop_booking_on_sentinel(context: DrillContext) -> str:
    """Stop the side instance (idempotent: found by its pid file, also after a killed drill),
    its scrape target first, so no alert reads a stopped instance as a blind one."""
    targets = scrape_target_file(context.stack)
    if targets is not None:
        targets.unlink(missing_ok=True)
    ManagedProcess(instance_directory(context.stack.settings)).stop()
    context.traffic_target = None
    return "booking service on the Sentinel group stopped"


def master_address(settings: StackSettings, group: RedisSentinel) -> tuple[str, int] | None:
    """The master the first answering sentinel names."""
    for port in group.sentinel_ports():
        client = redis.Redis(host=settings.host, port=port, socket_timeout=1)
        try:
            found = client.sentinel_get_master_addr_by_name(MASTER_NAME)
        except redis.RedisError:
            continue
        finally:
            client.close()
        if isinstance(found, tuple | list):
            host = found[0].decode() if isinstance(found[0], bytes) else str(found[0])
            return host, int(found[1])
    return None


def role(settings: StackSettings, port: int) -> dict[str, Any] | None:
    """INFO replication of a data node, None when it does not answer."""
    client = redis.Redis(host=settings.host, port=port, socket_timeout=1)
    try:
        return dict(client.info("replication"))
    except redis.RedisError:
        return None
    finally:
        client.close()


def takes_writes(settings: StackSettings, port: int) -> bool:
    found = role(settings, port)
    return found is not None and found.get("role") == "master"


def kill_redis_master(context: DrillContext) -> Finding:
    """SIGKILL the group's master process, then time until the sentinels name another master
    that takes writes (plan §4-1: within 30 s)."""
    settings = context.stack.settings
    group = sentinel_group(context.stack)
    old = master_address(settings, group)
    if old is None:
        raise DrillError("No sentinel names a master; is the redis_sentinel part running?")
    client = redis.Redis(host=settings.host, port=old[1], socket_timeout=1)
    pid = int(client.info("server")["process_id"])
    client.close()
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    new: tuple[str, int] | None = None
    while time.monotonic() - killed_at < FAILOVER_WAIT_SECONDS:
        found = master_address(settings, group)
        if found is not None and found != old and takes_writes(settings, found[1]):
            new = found
            break
        time.sleep(0.1)
    seconds = round(time.monotonic() - killed_at, 1) if new else None
    measured = {"old_master": old[1], "new_master": new and new[1], "failover_seconds": seconds}
    verdict = check(
        "failover: a replica promoted",
        "OnChaos",
        8,
        seconds is not None and seconds <= FAILOVER_TARGET_SECONDS,
        measured,
        f"a new master taking writes ≤ {FAILOVER_TARGET_SECONDS:g} s after the kill",
    )
    return Finding(f"SIGKILLed the master (pid {pid}, port {old[1]}): {measured}", verdict)


def group_whole(settings: StackSettings, group: RedisSentinel) -> bool:
    """One master the sentinels name, every other data node its replica with the link up."""
    master = master_address(settings, group)
    if master is None or not takes_writes(settings, master[1]):
        return False
    s = settings
    for port in (s.redis_ha_master_port, s.redis_ha_replica_port):
        if port == master[1]:
            continue
        found = role(settings, port)
        if found is None or found.get("role") != "slave":
            return False
        if found.get("master_link_status") != "up" or int(found.get("master_port", 0)) != master[1]:
            return False
    return True


def restore_redis_group(context: DrillContext) -> str:
    """The killed node back as a replica of the new master (the group's supervisor restarts it
    after 5 s; a supervisor that died is started again): idempotent."""
    settings = context.stack.settings
    group = sentinel_group(context.stack)
    context.stack.up(["redis_sentinel"])
    deadline = time.monotonic() + WHOLE_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if group_whole(settings, group):
            master = master_address(settings, group)
            return f"the Sentinel group is whole again (master on port {master and master[1]})"
        time.sleep(0.5)
    raise DrillError(
        f"The Sentinel group is not whole {WHOLE_WITHIN_SECONDS:g} s after the repair began; "
        "see `soundcheck logs redis_sentinel`."
    )
