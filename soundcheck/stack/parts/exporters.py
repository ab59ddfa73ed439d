"""The Prometheus exporters a user runs beside the real parts, from their Debian packages.

Each exporter is its own process, so Prometheus can tell "the exporter is down" (`up == 0`)
from "the thing it watches is down" (`redis_up == 0`, `mysql_up == 0`, ...): the alert rules use
both. Kafka's broker metrics come from the JMX agent inside the Kafka JVM (see kafka.py), so there
is no separate Kafka exporter here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx

from soundcheck.stack.part import TEMPLATES, NotReady, Part, find_binary

BUILD_VERSION = re.compile(r'^\w+_build_info\{(?:.*,)?version="([^"]+)"', re.MULTILINE)


def probe_metrics(url: str, expected_metric: str) -> str:
    """GET an exporter's /metrics and check it names `expected_metric`; return its version."""
    try:
        answer = httpx.get(url, timeout=3.0)
    except httpx.HTTPError as error:
        raise NotReady(f"no answer from {url}: {error}") from error
    if answer.status_code != 200:
        raise NotReady(f"{url} answered {answer.status_code}")
    if expected_metric not in answer.text:
        raise NotReady(f"{url} does not expose {expected_metric} yet")
    return exporter_version(answer.text)


def exporter_version(metrics_text: str) -> str:
    """The `version` label of the exporter's `*_build_info` line, if it has one."""
    found = BUILD_VERSION.search(metrics_text)
    return found.group(1) if found else "?"


class Exporter(Part):
    """An exporter: one port, answers /metrics with `expected_metric` once it works."""

    port_setting: str
    package: str
    program: str
    expected_metric: str

    @property
    def port(self) -> int:
        return int(getattr(self.settings, self.port_setting))

    @property
    def listen_address(self) -> str:
        return f"{self.settings.host}:{self.port}"

    def port_settings(self) -> dict[str, int]:
        return {self.port_setting: self.port}

    def address(self) -> str:
        return f"http://{self.listen_address}"

    def check_installed(self) -> None:
        find_binary(self.program, self.package, self.name)

    def binary(self) -> str:
        return find_binary(self.program, self.package, self.name)

    def probe(self) -> str:
        return probe_metrics(f"{self.address()}/metrics", self.expected_metric)


class RedisExporter(Exporter):
    name = "redis_exporter"
    port_setting = "redis_exporter_port"
    package = program = "prometheus-redis-exporter"
    expected_metric = "redis_up"

    def command(self) -> list[str]:
        s = self.settings
        return [
            self.binary(),
            f"-redis.addr=redis://{s.host}:{s.redis_port}",
            f"-web.listen-address={self.listen_address}",
            "-include-system-metrics",
        ]


class MysqldExporter(Exporter):
    """Logs in as the `exporter` user that MariaDB's after_ready creates (status only)."""

    name = "mysqld_exporter"
    port_setting = "mysqld_exporter_port"
    package = program = "prometheus-mysqld-exporter"
    expected_metric = "mysql_up"

    @property
    def client_config(self) -> Path:
        return self.dir / "my.cnf"

    def prepare(self) -> None:
        s = self.settings
        # The password goes into a file only we can read, never onto the command line.
        fd = os.open(self.client_config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as config:
            config.write(
                "[client]\n"
                f"user={s.mysqld_exporter_user}\n"
                f"password={s.mysqld_exporter_password.get_secret_value()}\n"
                f"host={s.host}\n"
                f"port={s.mariadb_port}\n"
            )

    def command(self) -> list[str]:
        return [
            self.binary(),
            f"--config.my-cnf={self.client_config}",
            f"--web.listen-address={self.listen_address}",
            "--collect.info_schema.processlist",
        ]


class NodeExporter(Exporter):
    name = "node_exporter"
    port_setting = "node_exporter_port"
    package = program = "prometheus-node-exporter"
    expected_metric = "node_cpu_seconds_total"
    # Only what the Infrastructure dashboard and the alerts read: a 5 s scrape stays cheap.
    collectors = ("cpu", "meminfo", "loadavg", "filesystem", "diskstats", "netdev", "stat", "time")

    def command(self) -> list[str]:
        return [
            self.binary(),
            f"--web.listen-address={self.listen_address}",
            "--collector.disable-defaults",
            *(f"--collector.{name}" for name in self.collectors),
            # Drills may drop *.prom files here; it also puts our home in the command line.
            f"--collector.textfile.directory={self.dir}",
            "--collector.textfile",
        ]


class ElasticsearchExporter(Exporter):
    name = "elasticsearch_exporter"
    port_setting = "elasticsearch_exporter_port"
    package = program = "prometheus-elasticsearch-exporter"
    expected_metric = "elasticsearch_cluster_health_up"

    def command(self) -> list[str]:
        s = self.settings
        return [
            self.binary(),
            f"--es.uri=http://{s.host}:{s.elasticsearch_port}",
            f"--web.listen-address={self.listen_address}",
            "--es.timeout=3s",
            "--es.indices",
        ]


class BlackboxExporter(Exporter):
    """Probes our services' health endpoints for Prometheus (`/probe?target=...`): the booking
    service is down when it does not answer GET /health, not when a scrape of it was slow."""

    name = "blackbox_exporter"
    port_setting = "blackbox_exporter_port"
    package = program = "prometheus-blackbox-exporter"
    expected_metric = "blackbox_exporter_config_last_reload_successful"

    @property
    def config_path(self) -> Path:
        return self.dir / "blackbox.yml"

    def prepare(self) -> None:
        self.render(TEMPLATES / "blackbox" / "blackbox.yml", self.config_path)

    def command(self) -> list[str]:
        return [
            self.binary(),
            f"--config.file={self.config_path}",
            f"--web.listen-address={self.listen_address}",
        ]


EXPORTER_TYPES: tuple[type[Exporter], ...] = (
    RedisExporter,
    MysqldExporter,
    NodeExporter,
    ElasticsearchExporter,
    BlackboxExporter,
)
