"""Index templates with explicit ECS mappings, the ILM policy where it exists, retention sweep.

Daily indices `logs-<service>-YYYY.MM.DD` and `traces-<service>-YYYY.MM.DD`. The templates'
priority (200) is above the built-in `logs-*-*` data-stream template of clusters with x-pack.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

ILM_POLICY = "soundcheck-30-days"
TEMPLATE_PRIORITY = 200
DAILY_INDEX = re.compile(r"^(logs|traces)-.+-(\d{4})\.(\d{2})\.(\d{2})$")

KEYWORD = {"type": "keyword", "ignore_above": 1024}
TEXT = {"type": "text"}
LONG = {"type": "long"}
STORED_ONLY = {"type": "object", "enabled": False}


def properties(fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Nested `properties` from dotted ECS names: {"log.level": KEYWORD} -> log{level}."""
    root: dict[str, Any] = {}
    for dotted, mapping in fields.items():
        node = root
        *parents, leaf = dotted.split(".")
        for parent in parents:
            node = node.setdefault(parent, {"properties": {}})["properties"]
        node[leaf] = mapping
    return root


COMMON_FIELDS: dict[str, dict[str, Any]] = {
    "@timestamp": {"type": "date"},
    "message": TEXT,
    "tags": KEYWORD,
    "labels": {"type": "flattened"},
    "service.name": KEYWORD,
    "service.version": KEYWORD,
    "service.environment": KEYWORD,
    "service.instance.id": KEYWORD,
    "host.hostname": KEYWORD,
    "host.name": KEYWORD,
    "trace.id": KEYWORD,
    "span.id": KEYWORD,
    "transaction.id": KEYWORD,
    "event.action": KEYWORD,
    "event.dataset": KEYWORD,
    "event.outcome": KEYWORD,
    "event.duration": LONG,
    "event.original": {"type": "keyword", "index": False, "doc_values": False},
    "error.type": KEYWORD,
    "error.message": TEXT,
    "error.stack_trace": {"type": "text", "index": False},
    "pipeline.rejection": KEYWORD,
}

LOG_FIELDS: dict[str, dict[str, Any]] = {
    **COMMON_FIELDS,
    "log.level": KEYWORD,
    "log.logger": KEYWORD,
    "log.origin.file.name": KEYWORD,
    "log.origin.file.line": LONG,
    "log.origin.function": KEYWORD,
    "process.pid": LONG,
    "process.thread.name": KEYWORD,
    "http.request.method": KEYWORD,
    "http.request.id": KEYWORD,
    "http.response.status_code": LONG,
    "url.path": KEYWORD,
    "url.full": KEYWORD,
    "client.ip": KEYWORD,
    "user.id": KEYWORD,
}

TRACE_FIELDS: dict[str, dict[str, Any]] = {
    **COMMON_FIELDS,
    "parent.id": KEYWORD,
    "span.name": KEYWORD,
    "span.kind": KEYWORD,
    "span.status.code": KEYWORD,
    "span.status.message": TEXT,
    "span.duration_ms": {"type": "scaled_float", "scaling_factor": 1000},
    "span.attributes": {"type": "flattened", "ignore_above": 1024},
    "span.events": STORED_ONLY,
    "span.links": STORED_ONLY,
    "resource.attributes": {"type": "flattened", "ignore_above": 1024},
    "scope.name": KEYWORD,
    "scope.version": KEYWORD,
}


def component_templates(ilm: bool) -> dict[str, dict[str, Any]]:
    # Logs are searched seconds after they happen, not milliseconds: a 5 s refresh makes
    # fewer, larger segments while bulk indexing (more events/s on a small machine).
    settings: dict[str, Any] = {
        "number_of_shards": 1,
        "number_of_replicas": 0,
        "refresh_interval": "5s",
    }
    if ilm:
        settings["lifecycle"] = {"name": ILM_POLICY}
    return {
        "soundcheck-settings": {"template": {"settings": {"index": settings}}},
        "soundcheck-logs-mappings": {
            "template": {
                "mappings": {
                    # App records carry fields beyond ECS: keep them searchable as keywords,
                    # and never guess dates or numbers from strings (that causes conflicts).
                    "dynamic": True,
                    "date_detection": False,
                    "numeric_detection": False,
                    "dynamic_templates": [
                        {"strings_as_keyword": {"match_mapping_type": "string", "mapping": KEYWORD}}
                    ],
                    "properties": properties(LOG_FIELDS),
                }
            }
        },
        "soundcheck-traces-mappings": {
            "template": {
                "mappings": {"dynamic": False, "properties": properties(TRACE_FIELDS)},
            }
        },
    }


def index_templates() -> dict[str, dict[str, Any]]:
    return {
        "soundcheck-logs": {
            "index_patterns": ["logs-*"],
            "priority": TEMPLATE_PRIORITY,
            "composed_of": ["soundcheck-settings", "soundcheck-logs-mappings"],
            "_meta": {"description": "Soundcheck application logs (ECS), one index per day"},
        },
        "soundcheck-traces": {
            "index_patterns": ["traces-*"],
            "priority": TEMPLATE_PRIORITY,
            "composed_of": ["soundcheck-settings", "soundcheck-traces-mappings"],
            "_meta": {"description": "Soundcheck OTLP spans (ECS), one index per day"},
        },
    }


def ilm_policy(retention_days: int) -> dict[str, Any]:
    return {
        "policy": {
            "phases": {
                "hot": {"actions": {}},
                "delete": {"min_age": f"{retention_days}d", "actions": {"delete": {}}},
            }
        }
    }


def cluster_has_ilm(client: httpx.Client) -> bool:
    """Only x-pack clusters have ILM; core ES answers `/_xpack` with 400 (no such endpoint)."""
    response = client.get("/_xpack")
    if response.status_code != 200:
        return False
    ilm = response.json().get("features", {}).get("ilm", {})
    return bool(ilm.get("available") and ilm.get("enabled"))


def install_templates(client: httpx.Client, retention_days: int) -> bool:
    """PUT the ILM policy (if supported), component and index templates; return ILM use."""
    ilm = cluster_has_ilm(client)
    if ilm:
        client.put(f"/_ilm/policy/{ILM_POLICY}", json=ilm_policy(retention_days)).raise_for_status()
    for name, body in component_templates(ilm).items():
        client.put(f"/_component_template/{name}", json=body).raise_for_status()
    for name, body in index_templates().items():
        client.put(f"/_index_template/{name}", json=body).raise_for_status()
    return ilm


def expired_indices(names: list[str], retention_days: int, today: date) -> list[str]:
    """Daily indices whose day is more than `retention_days` before `today`."""
    oldest_kept = today - timedelta(days=retention_days)
    expired = []
    for name in names:
        match = DAILY_INDEX.match(name)
        if not match:
            continue
        try:
            day = date(int(match.group(2)), int(match.group(3)), int(match.group(4)))
        except ValueError:
            continue
        if day < oldest_kept:
            expired.append(name)
    return sorted(expired)


def sweep_retention(client: httpx.Client, retention_days: int) -> list[str]:
    """Delete daily indices older than the retention; return what was deleted."""
    response = client.get("/_cat/indices/logs-*,traces-*", params={"format": "json", "h": "index"})
    response.raise_for_status()
    names = [row["index"] for row in response.json()]
    expired = expired_indices(names, retention_days, datetime.now(UTC).date())
    for start in range(0, len(expired), 50):
        group = ",".join(expired[start : start + 50])
        client.delete(f"/{group}").raise_for_status()
    return expired


def main() -> None:
    """Install the templates (and ILM policy) on a cluster, e.g. before Fluentd writes to it."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:9200", help="Elasticsearch URL")
    parser.add_argument("--retention-days", type=int, default=30)
    args = parser.parse_args()
    with httpx.Client(base_url=args.url, timeout=30) as client:
        ilm = install_templates(client, args.retention_days)
    print(f"templates installed on {args.url}; ILM policy {'applied' if ilm else 'not supported'}")


if __name__ == "__main__":
    main()
