"""Every alert rule in one list, read from the rule files Prometheus loads (hand-written and SLO).

Tests, the docs table and the runbook check all read alerts through here, so they agree with
what Prometheus really evaluates.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml

ALERT_RULES = Path(__file__).parent
REPO_ROOT = ALERT_RULES.parent
RULE_FILES = [
    *sorted(ALERT_RULES.glob("*.rules.yml")),
    *sorted(ALERT_RULES.glob("slo/*.rules.yml")),
]
TEST_FILES = [
    *sorted(ALERT_RULES.glob("tests/*.test.yml")),
    *sorted(ALERT_RULES.glob("slo/*.test.yml")),
]
ALERTMANAGER_TEMPLATE = ALERT_RULES / "alertmanager.yml"
RUNBOOKS = REPO_ROOT / "runbooks"
PRIORITY_SEVERITY = {"P0": "critical", "P1": "high", "P2": "warning", "P3": "info"}
# The addresses the rule files' links are written for (the router and a Grafana on a default
# host); `localized_links` moves them to where a stack really serves them.
SOURCE_ROUTER_URL = "http://127.0.0.1:8080/"
SOURCE_GRAFANA_URL = "http://127.0.0.1:3000/"
_SOURCE_DASHBOARD = re.compile(
    re.escape(SOURCE_GRAFANA_URL) + r"d/(?P<uid>[A-Za-z0-9_-]+)/[A-Za-z0-9_-]*(?P<query>\?\S*)?"
)


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    for_: str
    labels: dict[str, str]
    annotations: dict[str, str]
    source: Path

    @property
    def priority(self) -> str:
        return self.labels["priority"]

    @property
    def runbook_name(self) -> str:
        """The runbook page the `runbook_url` points at: its last path segment."""
        return urlparse(self.annotations["runbook_url"]).path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def dashboard(self) -> tuple[str, int]:
        """(dashboard uid, panel id) from `dashboard_url` (`/d/<uid>/<slug>?viewPanel=<id>`)."""
        url = urlparse(self.annotations["dashboard_url"])
        parts = url.path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "d":
            raise ValueError(f"{self.name}: dashboard_url {url.geturl()} is not /d/<uid>/...")
        panel = parse_qs(url.query).get("viewPanel", ["0"])[0]
        return parts[1], int(panel)


def load_rules(files: list[Path] | None = None) -> list[AlertRule]:
    """Every alerting rule (recording rules are left out), in file order."""
    found = []
    for path in files or RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    found.append(
                        AlertRule(
                            name=rule["alert"],
                            expr=rule["expr"],
                            for_=rule.get("for", "0s"),
                            labels=dict(rule.get("labels", {})),
                            annotations=dict(rule.get("annotations", {})),
                            source=path,
                        )
                    )
    return found


def alert_names() -> list[str]:
    """Each alert name once (SLO alerts have one rule per tier under one name)."""
    return list(dict.fromkeys(rule.name for rule in load_rules()))


def render_alertmanager_config(router_url: str, router_token_file: Path) -> str:
    """The Alertmanager config as `soundcheck up` writes it (the template's two fields)."""
    return string.Template(ALERTMANAGER_TEMPLATE.read_text()).substitute(
        router_url=router_url, router_token_file=router_token_file
    )


def localized_links(text: str, router_url: str, grafana_url: str = "") -> str:
    """A rule file's text with its runbook links on `router_url` and its dashboard links on
    `grafana_url`, or, without a Grafana, on the router's drawing of the same dashboard panel
    (`/dashboards/<uid>?viewPanel=<id>`)."""
    router = router_url.rstrip("/") + "/"
    text = text.replace(SOURCE_ROUTER_URL, router)
    if grafana_url:
        return text.replace(SOURCE_GRAFANA_URL, grafana_url.rstrip("/") + "/")
    return _SOURCE_DASHBOARD.sub(
        lambda found: f"{router}dashboards/{found['uid']}{found['query'] or ''}", text
    )


def duration_seconds(duration: str) -> int:
    """Prometheus durations as used here (`5s`, `15m`, `4h`) in seconds."""
    found = re.fullmatch(r"(\d+)([smhd])", duration)
    if not found:
        raise ValueError(f"not a simple Prometheus duration: {duration!r}")
    return int(found.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[found.group(2)]


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())
