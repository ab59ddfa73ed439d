"""Our pipeline (`python -m pipeline`): forward-protocol logs and OTLP traces into Elasticsearch.

It starts beside Elasticsearch, not after it: records received while Elasticsearch is still
starting (or down) wait in the disk buffer under `.soundcheck/pipeline/buffer/`.
"""

from __future__ import annotations

import sys

import httpx

from instrumentation.settings_contract import child_environment
from pipeline.settings import PipelineSettings
from soundcheck.stack.part import NotReady, Part


class Pipeline(Part):
    name = "pipeline"

    def port_settings(self) -> dict[str, int]:
        s = self.settings
        return {
            "pipeline_forward_port": s.pipeline_forward_port,
            "pipeline_otlp_port": s.pipeline_otlp_port,
            "pipeline_metrics_port": s.pipeline_metrics_port,
        }

    def address(self) -> str:
        s = self.settings
        return f"{s.host}:{s.pipeline_forward_port} otlp :{s.pipeline_otlp_port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.pipeline_otlp_port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "pipeline"]

    def environment(self) -> dict[str, str]:
        s = self.settings
        return child_environment(
            (PipelineSettings,),
            {
                "SOUNDCHECK_PIPELINE_HOST": s.host,
                "SOUNDCHECK_PIPELINE_FORWARD_PORT": s.pipeline_forward_port,
                "SOUNDCHECK_PIPELINE_OTLP_PORT": s.pipeline_otlp_port,
                "SOUNDCHECK_PIPELINE_METRICS_PORT": s.pipeline_metrics_port,
                "SOUNDCHECK_PIPELINE_ELASTICSEARCH_URL": f"http://{s.host}:{s.elasticsearch_port}",
                "SOUNDCHECK_PIPELINE_BUFFER_DIR": self.dir / "buffer",
                "SOUNDCHECK_PIPELINE_BUFFER_MAX_BYTES": s.pipeline_buffer_max_bytes,
            },
        )

    def probe(self) -> str:
        try:
            health = httpx.get(f"{self.http_url}/health", timeout=1.0)
            version = health.json()["version"]
        except (httpx.HTTPError, ValueError, KeyError) as error:
            raise NotReady(f"no answer from {self.http_url}/health: {error}") from error
        return f"pipeline {version}"
