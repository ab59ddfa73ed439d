"""The SLO generator: fresh output, exact budgets, stable tiers, tests that isolate their pair."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from alert_rules.catalog import load_yaml
from alert_rules.slo.generate import generate
from alert_rules.slo.promtool_tests import Scenario, check_scenario
from alert_rules.slo.rules import RULES
from alert_rules.slo.spec import SPEC, WINDOW_PAIRS, load_spec


def test_generated_files_are_up_to_date() -> None:
    stale = [path.name for path, text in generate().items() if path.read_text() != text]
    assert not stale, f"run `.venv/bin/python -m alert_rules.slo`; stale: {stale}"


def test_window_pairs_are_the_sre_workbooks() -> None:
    assert [(p.tier, p.factor, p.long, p.short) for p in WINDOW_PAIRS] == [
        ("page", Decimal("14.4"), "1h", "5m"),
        ("page", Decimal("6"), "6h", "30m"),
        ("ticket", Decimal("3"), "1d", "2h"),
        ("ticket", Decimal("1"), "3d", "6h"),
    ]


def test_budget_constants_are_exact_decimals() -> None:
    text = RULES.read_text()
    for exact in ("vector(0.001)", "vector(0.999)", "vector(0.01)", "/ 0.001 > 14.4", "/ 0.01 > 6"):
        assert exact in text
    for artefact in ("0000000", "e-"):
        assert artefact not in text, "a float artefact leaked into the rules"


def test_each_slo_has_one_alert_per_tier_with_a_stable_tier_label() -> None:
    _, slos = load_spec()
    groups = load_yaml(RULES)["groups"]
    for slo in slos:
        alerts = [
            rule for group in groups for rule in group["rules"] if rule.get("alert") == slo.alert
        ]
        assert [a["labels"]["tier"] for a in alerts] == ["page", "ticket"]
        assert all(a["labels"]["slo"] == slo.name for a in alerts)
        assert all("minimum" not in a["expr"] and ">=" in a["expr"] for a in alerts), "guard"


def test_a_scenario_that_does_not_isolate_its_pair_is_refused() -> None:
    tiers, slos = load_spec()
    fast = WINDOW_PAIRS[0]
    # Errors over the whole 6 h: the 6x pair trips too, so this proves nothing about 14.4x.
    everywhere = Scenario("bad", Decimal(100000), Decimal("15.84"), 0, 360, 360, 1)
    with pytest.raises(ValueError, match=r"does not isolate|another pair"):
        check_scenario(slos[0], tiers["page"], fast, everywhere, should_fire=False)


def test_spec_is_where_the_generator_reads() -> None:
    assert Path(SPEC).name == "slos.yml"
    assert load_yaml(SPEC)["period"] == "30d"
