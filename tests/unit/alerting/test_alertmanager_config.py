"""The Alertmanager config: valid, every priority routed to the router, inhibition safe."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from alert_rules.catalog import (
    AlertRule,
    duration_seconds,
    load_rules,
    render_alertmanager_config,
)
from router.settings import ALERT_BYTES_ALLOWANCE, RouterSettings

ROUTER_URL = "http://127.0.0.1:8080/alerts"
RULES = load_rules()


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("alertmanager")
    token = directory / "token"
    token.write_text("not-a-real-token")
    path = directory / "alertmanager.yml"
    path.write_text(render_alertmanager_config(ROUTER_URL, token))
    return path


def amtool(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["amtool", *argv], capture_output=True, text=True, check=False)


def test_amtool_check_config_passes(config_file: Path) -> None:
    result = amtool("check-config", str(config_file))
    assert result.returncode == 0, result.stdout + result.stderr


# Labels an alert carries -> the receiver it must reach (and so the router's fan-out).
ROUTE_MATRIX = [
    ({"alertname": "RedisDown", "priority": "P0", "service": "booking"}, "router-p0"),
    ({"alertname": "AlertRouterDown", "priority": "P0", "service": "router"}, "router-p0"),
    ({"alertname": "KafkaConsumerLag", "priority": "P1", "service": "booking"}, "router-p1"),
    (
        {"alertname": "BookingAvailabilityBudgetBurn", "priority": "P1", "tier": "page"},
        "router-p1",
    ),
    ({"alertname": "CacheHitRateLow", "priority": "P2", "service": "booking"}, "router-p2"),
    ({"alertname": "ExporterDown", "priority": "P2", "service": "alerting"}, "router-p2"),
    (
        {"alertname": "BookingLatencyBudgetBurn", "priority": "P3", "tier": "ticket"},
        "router-p3",
    ),
    ({"alertname": "Watchdog", "priority": "P3", "service": "alerting"}, "watchdog"),
    ({"alertname": "SomethingNew", "service": "booking"}, "router-default"),
    ({"alertname": "RedisDown", "priority": "P0", "soundcheck_selftest": "true"}, "discard"),
]


@pytest.mark.parametrize(("labels", "receiver"), ROUTE_MATRIX, ids=lambda x: str(x))
def test_amtool_routes_each_priority_to_its_receiver(
    config_file: Path, labels: dict[str, str], receiver: str
) -> None:
    result = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={config_file}",
        f"--verify.receivers={receiver}",
        *(f"{k}={v}" for k, v in labels.items()),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.name}-{r.labels.get('tier', '')}")
def test_every_rule_reaches_the_receiver_of_its_priority(
    config_file: Path, rule: AlertRule
) -> None:
    labels = {"alertname": rule.name, **rule.labels}
    wanted = "watchdog" if rule.name == "Watchdog" else f"router-{rule.priority.lower()}"
    result = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={config_file}",
        f"--verify.receivers={wanted}",
        *(f"{k}={v}" for k, v in labels.items()),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_notifying_receiver_is_the_router_with_the_token_file(config_file: Path) -> None:
    config = yaml.safe_load(config_file.read_text())
    for receiver in config["receivers"]:
        if receiver["name"] == "discard":
            assert "webhook_configs" not in receiver
            continue
        (webhook,) = receiver["webhook_configs"]
        assert webhook["url"] == ROUTER_URL
        assert webhook["send_resolved"] is True
        auth = webhook["http_config"]["authorization"]
        assert auth["type"] == "Bearer"
        assert Path(auth["credentials_file"]).name == "token"
        assert "credentials" not in auth, "the token must come from the file"


def test_every_notification_fits_the_router_body_limit(config_file: Path) -> None:
    """Alertmanager drops a notification the router answers 413 (it never retries a 4xx): each
    webhook carries at most max_alerts alerts (and the common labels and group key beside them),
    each up to the allowance, and all of that must fit the router's limit."""
    limit = RouterSettings().max_body_bytes
    for receiver in yaml.safe_load(config_file.read_text())["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            max_alerts = webhook.get("max_alerts", 0)
            assert max_alerts > 0, f"{receiver['name']}: max_alerts unset sends any number"
            assert (max_alerts + 2) * ALERT_BYTES_ALLOWANCE <= limit, receiver["name"]


def test_p0_is_the_fastest_route(config_file: Path) -> None:
    routes = {r["receiver"]: r for r in yaml.safe_load(config_file.read_text())["route"]["routes"]}
    order = ["router-p0", "router-p1", "router-p2", "router-p3"]
    for key in ("group_wait", "group_interval", "repeat_interval"):
        values = [duration_seconds(routes[name][key]) for name in order]
        assert values == sorted(values), f"{key}: {values}"
        assert values[0] < values[1], f"{key}: P0 is not faster than P1"


def test_inhibition_equal_labels_are_on_every_alert_they_can_match(config_file: Path) -> None:
    """A label missing on both sides counts as equal and would mute unrelated alerts."""
    config = yaml.safe_load(config_file.read_text())
    for inhibit in config["inhibit_rules"]:
        for rule in RULES:
            labels = {"alertname": rule.name, **rule.labels}
            side = [
                m
                for m in (inhibit["source_matchers"], inhibit["target_matchers"])
                if all(matches(labels, matcher) for matcher in m)
            ]
            if side:
                missing = [label for label in inhibit["equal"] if not labels.get(label)]
                assert not missing, f"{rule.name} can match {inhibit} but lacks {missing}"


def test_the_watchdog_is_never_inhibited(config_file: Path) -> None:
    config = yaml.safe_load(config_file.read_text())
    watchdog = next(r for r in RULES if r.name == "Watchdog")
    labels = {"alertname": "Watchdog", **watchdog.labels}
    for inhibit in config["inhibit_rules"]:
        assert not all(matches(labels, m) for m in inhibit["target_matchers"])


def matches(labels: dict[str, str], matcher: str) -> bool:
    name, operator, value = re.fullmatch(r'(\w+)\s*(=~|!~|!=|=)\s*"(.*)"', matcher).groups()  # type: ignore[union-attr]
    actual = labels.get(name, "")
    if operator == "=":
        return actual == value
    if operator == "!=":
        return actual != value
    found = re.fullmatch(value, actual) is not None
    return found if operator == "=~" else not found


def test_paging_routes_repeat_within_two_minutes(config_file: Path) -> None:
    """Alertmanager counts an alert whose resolve never went out as still notified, so its next
    episode waits for repeat_interval; the router turns repeats of a stored episode into nothing."""
    routes = {r["receiver"]: r for r in yaml.safe_load(config_file.read_text())["route"]["routes"]}
    for name in ("router-p0", "router-p1"):
        assert duration_seconds(routes[name]["repeat_interval"]) <= 120, name
