"""The alert rules as Prometheus loads them: valid, labelled for routing, linked, and tested."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from alert_rules.catalog import (
    ALERTMANAGER_TEMPLATE,
    PRIORITY_SEVERITY,
    REPO_ROOT,
    RULE_FILES,
    TEST_FILES,
    AlertRule,
    duration_seconds,
    load_rules,
    load_yaml,
)

RULES = load_rules()
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url", "dashboard_url")
# The plan's seven (§5-2-2) and one per failure point of plan §3 (A1), by name and priority.
EXPECTED_PRIORITIES = {
    "RedisDown": "P0",
    "DatabaseConnectionPoolExhausted": "P0",
    "HighErrorRate": "P0",
    "KafkaConsumerLag": "P1",
    "DistributedLockTimeouts": "P1",
    "HighResponseTime": "P2",
    "CacheHitRateLow": "P2",
    "MariaDBDown": "P0",
    "KafkaDown": "P1",
    "ElasticsearchDown": "P1",
    "OutboxBacklogGrowing": "P1",
    "QueueActivationStalled": "P1",
    "QueueActivationLate": "P1",
    "DegradedModeActive": "P1",
    "CircuitBreakerOpen": "P1",
    "RedisMasterFailover": "P1",
    "LogsNotReachingElasticsearch": "P1",
    "LogRecordsDropped": "P2",
    "RouterDeliveriesRetrying": "P1",
    "RouterDeadLetters": "P1",
    "Watchdog": "P3",
}


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_promtool_check_rules_is_clean() -> None:
    result = run("promtool", "check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr


def test_every_promtool_test_file_passes() -> None:
    """Run the files side by side (promtool is single-threaded; two cores here)."""
    running = {
        path: subprocess.Popen(
            ["promtool", "test", "rules", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for path in TEST_FILES
    }
    failures = []
    for path, process in running.items():
        output, _ = process.communicate(timeout=300)
        if process.returncode != 0:
            failures.append(f"{path.name}:\n{output[-3000:]}")
    assert not failures, "\n".join(failures)


def test_the_plans_alerts_and_failure_points_exist_with_their_priority() -> None:
    found = {rule.name: rule.priority for rule in RULES}
    wrong = {
        name: (found.get(name), wanted)
        for name, wanted in EXPECTED_PRIORITIES.items()
        if found.get(name) != wanted
    }
    assert not wrong, f"(found, wanted) priorities: {wrong}"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.name}-{r.labels.get('tier', '')}")
def test_rule_has_routing_labels_and_annotations(rule: AlertRule) -> None:
    assert rule.labels.get("priority") in PRIORITY_SEVERITY
    if rule.name != "Watchdog":
        assert rule.labels.get("severity") == PRIORITY_SEVERITY[rule.priority]
    assert re.fullmatch(r"[a-z][a-z-]*", rule.labels.get("service", ""))
    assert rule.labels.get("component")
    missing = [a for a in REQUIRED_ANNOTATIONS if not rule.annotations.get(a)]
    assert not missing, f"{rule.name} lacks {missing}"
    assert "$value" in rule.annotations["description"], "the description must show the value"
    assert rule.annotations["runbook_url"].endswith(f"/runbooks/{rule.name}")


def test_every_alert_name_is_unique_per_file_except_slo_tiers() -> None:
    seen: dict[tuple[str, str], Path] = {}
    for rule in RULES:
        key = (rule.name, rule.labels.get("tier", ""))
        assert key not in seen, f"{rule.name} defined twice ({seen[key]}, {rule.source})"
        seen[key] = rule.source


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    """Each alert has a promtool case where it fires and one where it does not."""
    fired: set[str] = set()
    silent: set[str] = set()
    for path in TEST_FILES:
        for group in load_yaml(path)["tests"]:
            for case in group.get("alert_rule_test", []):
                (fired if case["exp_alerts"] else silent).add(case["alertname"])
    names = {rule.name for rule in RULES}
    assert names - fired == set(), "never shown firing"
    assert names - silent - {"Watchdog"} == set(), "never shown silent (below threshold/resolved)"


def test_p0_alerts_page_within_30_seconds_of_the_fault() -> None:
    """Worst case: scrape interval + evaluation interval + `for` + the P0 route's group_wait."""
    prometheus = load_yaml(REPO_ROOT / "soundcheck/templates/prometheus/prometheus.yml")
    scrape = duration_seconds(prometheus["global"]["scrape_interval"])
    evaluation = duration_seconds(prometheus["global"]["evaluation_interval"])
    routes = load_yaml(ALERTMANAGER_TEMPLATE)["route"]["routes"]
    p0 = next(r for r in routes if r["matchers"] == ['priority="P0"'])
    for rule in RULES:
        if rule.priority == "P0":
            wait = duration_seconds(rule.for_) + duration_seconds(p0["group_wait"])
            total = scrape + evaluation + wait
            assert total <= 30, f"{rule.name}: worst case {total} s"


def test_prometheus_config_template_renders_to_a_valid_config(tmp_path: Path) -> None:
    """The scrape jobs and rule globs as `soundcheck up` renders them, checked by promtool."""
    from soundcheck.settings import StackSettings
    from soundcheck.stack.parts.prometheus import Prometheus

    settings = StackSettings(home=tmp_path)
    Prometheus(settings).prepare()
    result = run("promtool", "check", "config", str(tmp_path / "prometheus" / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = load_yaml(tmp_path / "prometheus" / "prometheus.yml")
    jobs = {job["job_name"] for job in rendered["scrape_configs"]}
    assert {"redis", "mysql", "node", "elasticsearch", "kafka", "booking", "router"} <= jobs
    assert "booking_health" in jobs
    assert "pipeline" in jobs
