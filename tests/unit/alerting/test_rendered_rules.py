"""What Prometheus and Alertmanager are started with: rule files whose runbook links point at the
stack's own router, and an Alertmanager that does not remember notifications across restarts."""

from __future__ import annotations

from pathlib import Path

import yaml

from soundcheck.settings import StackSettings
from soundcheck.stack.parts.prometheus import ALERT_RULES, RULE_FILES, Alertmanager, render_rules


def runbook_urls(directory: Path) -> list[str]:
    urls = []
    for pattern in RULE_FILES:
        for path in sorted(directory.glob(pattern)):
            for group in yaml.safe_load(path.read_text())["groups"]:
                for rule in group["rules"]:
                    url = rule.get("annotations", {}).get("runbook_url")
                    if url:
                        urls.append(url)
    return urls


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
