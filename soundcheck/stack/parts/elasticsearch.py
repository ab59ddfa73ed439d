"""Elasticsearch 7.17 from Maven Central jars, started by our small Java launcher.

The launcher (`soundcheck/java/elasticsearch/`) subclasses ES's `Node` with the netty4 transport
plugin; there is no x-pack, so no ILM, no scripts and no ingest processors (see ARCHITECTURE.md).
"""

from __future__ import annotations

import httpx

from soundcheck.stack.java import JAVA_PROJECTS, dist_dir, ensure_dist, find_java
from soundcheck.stack.part import NotReady, Part

LAUNCHER = "dev.soundcheck.elasticsearch.EmbeddedElasticsearch"


class Elasticsearch(Part):
    name = "elasticsearch"
    needs_java = True

    def port_settings(self) -> dict[str, int]:
        return {
            "elasticsearch_port": self.settings.elasticsearch_port,
            "elasticsearch_transport_port": self.settings.elasticsearch_transport_port,
        }

    def address(self) -> str:
        return f"http://{self.settings.host}:{self.settings.elasticsearch_port}"

    def check_installed(self) -> None:
        find_java(self.settings)

    def fetch(self) -> None:
        ensure_dist(self.settings, "elasticsearch")

    def prepare(self) -> None:
        (self.dir / "home").mkdir(parents=True, exist_ok=True)
        (self.dir / "tmp").mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        s = self.settings
        dist = dist_dir(s, "elasticsearch")
        return [
            find_java(s),
            f"-Xms{s.elasticsearch_heap}",
            f"-Xmx{s.elasticsearch_heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Djava.io.tmpdir={self.dir / 'tmp'}",
            f"-Dlog4j2.configurationFile={JAVA_PROJECTS / 'elasticsearch' / 'log4j2.properties'}",
            "-cp",
            f"{dist / 'es-launcher.jar'}:{dist / 'lib'}/*",
            LAUNCHER,
            f"-Epath.home={self.dir / 'home'}",
            f"-Epath.data={self.dir / 'data'}",
            f"-Epath.logs={self.dir / 'logs'}",
            "-Ecluster.name=soundcheck",
            "-Enode.name=soundcheck-1",
            f"-Enetwork.host={s.host}",
            f"-Ehttp.port={s.elasticsearch_port}",
            f"-Etransport.port={s.elasticsearch_transport_port}",
        ]

    def probe(self) -> str:
        try:
            root = httpx.get(self.address() + "/", timeout=1.0)
            health = httpx.get(self.address() + "/_cluster/health", timeout=1.0).json()
        except (httpx.HTTPError, ValueError) as error:
            raise NotReady(f"no answer from {self.address()}: {error}") from error
        if root.status_code != 200 or health.get("status") not in ("green", "yellow"):
            raise NotReady(f"cluster health is {health.get('status', root.status_code)}")
        return str(root.json()["version"]["number"])
