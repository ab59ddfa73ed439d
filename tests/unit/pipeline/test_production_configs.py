"""The shipped Fluentd and OTel Collector configs hang together (neither program runs here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

CONFIGS = Path(__file__).resolve().parents[3] / "pipeline" / "configs"


def fluentd_sections(text: str) -> list[str]:
    """The section tags in order; fails on an unbalanced `<x>` / `</x>`."""
    opened: list[str] = []
    seen: list[str] = []
    for line in text.splitlines():
        match = re.fullmatch(r"<(/?)([a-z@]+)[^>]*>", line.strip())
        if not match:
            continue
        closing, name = match.groups()
        if closing:
            assert opened[-1:] == [name], f"</{name}> closes <{opened[-1:]}>"
            opened.pop()
        else:
            opened.append(name)
            seen.append(name)
    assert not opened, f"unclosed sections: {opened}"
    return seen


def test_fluentd_config_forward_in_elasticsearch_out_file_buffer_retries() -> None:
    text = (CONFIGS / "fluentd.conf").read_text()
    sections = fluentd_sections(text)
    assert sections.count("source") == 3
    assert "buffer" in sections
    for directive in (
        "@type forward",
        "port 24224",
        "@type elasticsearch",
        "@type file",
        "retry_forever true",
        "overflow_action block",
        "id_key _hash",
        "index_name logs-${$['service.name']}-%Y.%m.%d",
    ):
        assert directive in text, directive


def test_otel_collector_config_references_only_defined_components() -> None:
    config: dict[str, Any] = yaml.safe_load((CONFIGS / "otel-collector.yaml").read_text())
    service = config["service"]
    assert set(service["extensions"]) <= set(config["extensions"])
    for pipeline in service["pipelines"].values():
        assert set(pipeline["receivers"]) <= set(config["receivers"])
        assert set(pipeline.get("processors", [])) <= set(config["processors"])
        assert set(pipeline["exporters"]) <= set(config["exporters"])
    traces = service["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    assert traces["exporters"] == ["elasticsearch"]
    exporter = config["exporters"]["elasticsearch"]
    assert exporter["mapping"]["mode"] == "ecs"  # the otel mode needs ES 8.12+
    assert exporter["sending_queue"]["storage"] in config["extensions"]
    assert exporter["retry"]["enabled"] is True
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
