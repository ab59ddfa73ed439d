"""What Prometheus and Alertmanager are started with: rule files whose runbook and dashboard links
point at the stack's own router (or its Grafana), and an Alertmanager that does not remember
notifications across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.prometheus import (
    ALERT_RULES,
    RULE_FILES,
    Alertmanager,
    Prometheus,
    render_rules,
)


def annotation_urls(directory: Path, name: str = "runbook_url") -> list[str]:
    urls = []
    for pattern in RULE_FILES:
        for path in sorted(directory.glob(pattern)):
            for group in yaml.safe_load(path.read_text())["groups"]:
                for rule in group["rules"]:
                    url = rule.get("annotations", {}).get(name)
                    if url:
                        urls.append(url)
    return urls


def runbook_urls(directory: Path) -> list[str]:
    return annotation_urls(directory)


def rendered_by_a_stack(home: Path) -> Path:
    """The rules of a second stack (port offset 10000) as `soundcheck up` renders them."""
    part = Prometheus(StackSettings(home=home, port_offset=10000))
    part.prepare()
    return part.dir / "rules"


def test_a_port_offset_moves_every_runbook_and_dashboard_link_to_the_stacks_router(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SOUNDCHECK_ROUTER_PUBLIC_URL", "SOUNDCHECK_ROUTER_GRAFANA_URL"):
        monkeypatch.delenv(name, raising=False)
    rules = rendered_by_a_stack(tmp_path)
    runbooks, dashboards = annotation_urls(rules), annotation_urls(rules, "dashboard_url")
    assert len(runbooks) >= 10
    assert len(dashboards) == len(annotation_urls(ALERT_RULES, "dashboard_url"))
    assert all(url.startswith("http://127.0.0.1:18080/runbooks/") for url in runbooks)
    # The router draws the same dashboard and panel the Grafana link named.
    assert "http://127.0.0.1:18080/dashboards/soundcheck-infrastructure?viewPanel=6" in dashboards
    own = "http://127.0.0.1:18080/dashboards/soundcheck-"
    assert all(url.startswith(own) and "?viewPanel=" in url for url in dashboards)


def test_dashboard_links_go_to_grafana_when_the_router_is_given_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUNDCHECK_ROUTER_GRAFANA_URL", "https://grafana.example.com/")
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PUBLIC_URL", "https://alerts.example.com")
    rules = rendered_by_a_stack(tmp_path)
    assert all(
        url.startswith("https://alerts.example.com/runbooks/") for url in annotation_urls(rules)
    )
    assert all(
        url.startswith("https://grafana.example.com/d/soundcheck-")
        for url in annotation_urls(rules, "dashboard_url")
    )


def test_runbook_links_follow_the_router_address(tmp_path: Path) -> None:
    (tmp_path / "stale.rules.yml").write_text("groups: []\n")  # left from an earlier render
    rendered = render_rules(tmp_path / "rules", "http://10.0.0.5:9080")
    original = runbook_urls(ALERT_RULES)
    moved = runbook_urls(rendered)
    assert len(original) >= 10
    assert moved == [
        url.replace("http://127.0.0.1:8080/", "http://10.0.0.5:9080/") for url in original
    ]
    assert all(url.startswith("http://10.0.0.5:9080/runbooks/") for url in moved)
    again = render_rules(tmp_path, "http://10.0.0.5:9080")
    assert not (again / "stale.rules.yml").exists()


def test_alertmanager_forgets_what_it_notified_but_keeps_silences(tmp_path: Path) -> None:
    """A firing alert remembered as notified from before a restart would keep the same alert's
    next fault from paging anyone until its repeat interval."""
    part = Alertmanager(StackSettings(home=tmp_path))
    data = part.dir / "data"
    data.mkdir(parents=True)
    (data / "nflog").write_bytes(b"notified before the restart")
    (data / "silences").write_bytes(b"a silence someone set")
    part.prepare()
    assert not (data / "nflog").exists()
    assert (data / "silences").read_bytes() == b"a silence someone set"
    assert part.config_path.exists()
