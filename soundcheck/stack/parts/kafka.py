"""Kafka 4.x in KRaft combined mode (broker + controller), run from Maven Central jars."""

from __future__ import annotations

import base64
import logging
import re
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from soundcheck.stack.java import dist_dir, ensure_dist, find_java
from soundcheck.stack.part import TEMPLATES, NotReady, Part

_silent = logging.getLogger("soundcheck.stack.kafka.probe")
_silent.addHandler(logging.NullHandler())
_silent.propagate = False


class Kafka(Part):
    name = "kafka"
    needs_java = True

    @property
    def log_dirs(self) -> Path:
        return self.dir / "data"

    @property
    def properties(self) -> Path:
        return self.dir / "server.properties"

    def dist(self) -> Path:
        return dist_dir(self.settings, "kafka")

    def port_settings(self) -> dict[str, int]:
        return {
            "kafka_port": self.settings.kafka_port,
            "kafka_controller_port": self.settings.kafka_controller_port,
            "kafka_jmx_exporter_port": self.settings.kafka_jmx_exporter_port,
        }

    def address(self) -> str:
        return f"{self.settings.host}:{self.settings.kafka_port}"

    def check_installed(self) -> None:
        find_java(self.settings)

    def fetch(self) -> None:
        ensure_dist(self.settings, "kafka")

    def _java(
        self, main: str, *args: str, heap: str = "256m", agents: tuple[str, ...] = ()
    ) -> list[str]:
        return [
            find_java(self.settings),
            *agents,
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:InitiatingHeapOccupancyPercent=35",
            "-XX:+ExplicitGCInvokesConcurrent",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={TEMPLATES / 'kafka' / 'log4j2.yaml'}",
            f"-Dkafka.logs.dir={self.dir / 'logs'}",
            "-cp",
            f"{self.dist() / 'lib'}/*",
            main,
            *args,
        ]

    def prepare(self) -> None:
        s = self.settings
        self.render(
            TEMPLATES / "kafka" / "server.properties",
            self.properties,
            host=s.host,
            port=s.kafka_port,
            controller_port=s.kafka_controller_port,
            log_dirs=self.log_dirs,
            node_id=1,
        )
        if (self.log_dirs / "meta.properties").exists():
            return
        # Storage is formatted once, in its own JVM, with a cluster id we keep. No --standalone:
        # the quorum is the static controller.quorum.voters of server.properties.
        cluster_id_file = self.dir / "cluster-id"
        if not cluster_id_file.exists():
            cluster_id_file.write_text(new_cluster_id())
        self.run_once(
            f"formatting Kafka storage in {self.log_dirs}",
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id_file.read_text().strip(),
                "-c",
                str(self.properties),
            ),
        )

    def jmx_exporter_agent(self) -> str:
        """The Prometheus JMX exporter as a -javaagent: broker metrics on their own port."""
        s = self.settings
        jar = self.dist() / "agent" / "jmx_prometheus_javaagent.jar"
        config = TEMPLATES / "kafka" / "jmx-exporter.yaml"
        return f"-javaagent:{jar}={s.host}:{s.kafka_jmx_exporter_port}:{config}"

    def command(self) -> list[str]:
        return self._java(
            "kafka.Kafka",
            str(self.properties),
            heap=self.settings.kafka_heap,
            agents=(self.jmx_exporter_agent(),),
        )

    def version(self) -> str:
        for jar in (self.dist() / "lib").glob("kafka_2.13-*.jar"):
            found = re.match(r"kafka_2\.13-(.+)\.jar$", jar.name)
            if found:
                return found.group(1)
        return "?"

    def probe(self) -> str:
        config: dict[str, object] = {
            "bootstrap.servers": self.address(),
            "socket.timeout.ms": 1000,
            "logger": _silent,  # connection-refused noise while the broker boots is expected
        }
        admin = AdminClient(config)  # type: ignore[arg-type]  # a Logger is valid at runtime
        try:
            metadata = admin.list_topics(timeout=1.5)
        except Exception as error:  # KafkaException, or a timeout while the broker boots
            raise NotReady(f"no metadata from {self.address()}: {error}") from error
        if not metadata.brokers:
            raise NotReady(f"{self.address()} answered but lists no broker yet")
        return self.version()


def new_cluster_id() -> str:
    """16 random bytes, base64url without padding, not starting with '-' (Kafka's own rule)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id
