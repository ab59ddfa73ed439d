"""Dashboards as code: committed JSON is fresh, datasource is a variable, alert links land."""

from __future__ import annotations

import json

from alert_rules.catalog import load_rules
from dashboards.definitions import DASHBOARDS
from dashboards.render import rendered


def test_committed_json_is_regenerated_from_the_code() -> None:
    stale = [path.name for path, text in rendered().items() if path.read_text() != text]
    assert not stale, f"run `.venv/bin/python -m dashboards`; stale: {stale}"


def test_the_plans_four_dashboards_exist() -> None:
    assert {d.uid for d in DASHBOARDS} == {
        "soundcheck-business",
        "soundcheck-system-health",
        "soundcheck-infrastructure",
        "soundcheck-distributed-lock",
    }


def test_every_panel_and_query_uses_the_datasource_variable() -> None:
    for path, text in rendered().items():
        board = json.loads(text)
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == "${datasource}", (path.name, panel["title"])
            assert panel["targets"], (path.name, panel["title"])
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}"


def test_panel_ids_are_unique_within_a_dashboard() -> None:
    for board in DASHBOARDS:
        ids = [p.id for p in board.panels]
        assert len(ids) == len(set(ids)), board.uid


def test_every_alert_dashboard_url_points_at_a_real_dashboard_and_panel() -> None:
    panels = {(b.uid, p.id) for b in DASHBOARDS for p in b.panels}
    slugs = {b.uid: b.slug for b in DASHBOARDS}
    for rule in load_rules():
        uid, panel = rule.dashboard
        assert (uid, panel) in panels, f"{rule.name}: no panel {panel} on {uid}"
        assert f"/d/{uid}/{slugs[uid]}?" in rule.annotations["dashboard_url"]
