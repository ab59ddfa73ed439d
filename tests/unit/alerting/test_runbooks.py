"""Runbooks: every alert links a page, every page belongs to an alert, every page is complete."""

from __future__ import annotations

import json
import re

import pytest

from alert_rules.catalog import REPO_ROOT, RUNBOOKS, AlertRule, alert_names, load_rules

SECTIONS = ("Meaning", "Impact", "Diagnosis", "Mitigation", "Escalation")
SAVED_SEARCHES = {
    json.loads(line)["attributes"]["title"]
    for line in (REPO_ROOT / "pipeline/kibana/saved_objects.ndjson").read_text().splitlines()
    if line.strip() and json.loads(line).get("type") == "search"
}


def test_every_alert_runbook_url_resolves_to_a_page() -> None:
    missing = [r.name for r in load_rules() if not (RUNBOOKS / f"{r.runbook_name}.md").is_file()]
    assert not missing


def test_every_page_belongs_to_an_alert() -> None:
    orphans = {p.stem for p in RUNBOOKS.glob("*.md")} - set(alert_names())
    assert not orphans


@pytest.mark.parametrize("name", alert_names())
def test_page_has_every_section_with_exact_queries_search_and_commands(name: str) -> None:
    text = (RUNBOOKS / f"{name}.md").read_text()
    assert text.startswith(f"# {name}\n")
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings == list(SECTIONS)
    diagnosis = text.split("## Diagnosis", 1)[1].split("## Mitigation", 1)[0]
    assert "```promql" in diagnosis, "exact PromQL"
    assert any(f"**{search}**" in diagnosis for search in SAVED_SEARCHES), "a Kibana saved search"
    assert re.search(r"^soundcheck \w+", diagnosis, flags=re.MULTILINE), "soundcheck commands"


@pytest.mark.parametrize(
    "rule", [r for r in load_rules() if r.priority == "P0"], ids=lambda r: r.name
)
def test_p0_pages_say_how_they_page_within_30_seconds(rule: AlertRule) -> None:
    text = (RUNBOOKS / f"{rule.name}.md").read_text()
    assert "within 30 s" in text
    assert f"`for: {rule.for_}`" in text


def test_saved_searches_were_found() -> None:
    assert "errors by service" in SAVED_SEARCHES


def test_docs_list_every_alert_with_its_priority() -> None:
    docs = (REPO_ROOT / "docs/alerting.md").read_text()
    for rule in load_rules():
        row = next((line for line in docs.splitlines() if line.startswith(f"| [{rule.name}]")), "")
        assert rule.priority in row, f"docs/alerting.md lacks {rule.name} with {rule.priority}"
