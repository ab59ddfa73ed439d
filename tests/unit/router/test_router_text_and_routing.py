"""Escaping, truncation and the routing table, without any service."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from router.decision import backoff_seconds
from router.links import URL_LIMIT, safe_url
from router.routing import RoutingError, load_routing_table
from router.settings import RouterSettings
from router.text import (
    jira_escape,
    jira_label,
    jql_string,
    slack_escape,
    truncate,
)
from sandbox.jql import JqlError, parse

SHIPPED = Path(__file__).resolve().parents[3] / "router" / "routing.yml"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> RouterSettings:
    monkeypatch.setenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING", "k" * 32)
    return RouterSettings()


def test_slack_text_cannot_ping_or_link() -> None:
    assert slack_escape("<!channel> & <https://evil|click>") == (
        "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;"
    )


def test_jira_markup_is_escaped() -> None:
    assert jira_escape("{code}x[link|http://e]*b*") == r"\{code\}x\[link\|http://e\]\*b\*"


def test_jira_lines_that_start_like_headings_or_quotes_stay_plain_text() -> None:
    escaped = jira_escape("h1. INJECTED\n  bq. quote\nH3. upper\nnot h1. at the start")
    for line in escaped.splitlines():
        assert not re.match(r"\s*(h[1-6]|bq)\.", line, re.IGNORECASE), line
    assert "not h1. at the start" in escaped, "a dot elsewhere is left alone"


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/rb\nh1. INJECTED",
        "http://evil.example/a b",
        "http://evil.example/\x00",
        "javascript:alert(1)",
        "ftp://files.example/x",
        "http:///no-host",
        "http://evil.example/{color}",
        "http://evil.example/a|b",
        'http://evil.example/"><script>',
        "http://evil.example/" + "a" * URL_LIMIT,
    ],
)
def test_urls_from_alerts_that_are_not_plain_http_links_are_refused(url: str) -> None:
    assert safe_url(url) is None


def test_plain_http_links_are_kept() -> None:
    for url in (
        "http://127.0.0.1:8080/runbooks/RedisDown",
        "https://grafana.example/d/abc?var-service=booking&from=now-1h#panel-2",
        "http://127.0.0.1:9090/graph?g0.expr=rate%28x%5B5m%5D%29&g0.tab=1",
    ):
        assert safe_url(url) == url


def test_jql_string_cannot_end_the_literal() -> None:
    hostile = 'x" OR project = "SECRET'
    query = parse(f"labels = {jql_string(hostile)} ORDER BY created DESC")
    assert query.clauses == [("labels", "=", hostile)]


def test_broken_jql_is_rejected_by_the_sandbox_parser() -> None:
    with pytest.raises(JqlError):
        parse('labels = "x" OR project = "Y"')


def test_truncate_marks_the_cut_and_keeps_the_limit() -> None:
    assert truncate("a" * 300, 255) == "a" * 254 + "…"
    assert len(truncate("a" * 300, 255)) == 255
    assert truncate("short", 255) == "short"


def test_jira_labels_have_no_spaces() -> None:
    assert jira_label("a b\tc") == "a_b_c"


def test_priority_from_label_then_severity_then_default(settings: RouterSettings) -> None:
    table = load_routing_table(SHIPPED, settings)
    assert table.priority_of({"priority": "p1", "severity": "critical"}) == "P1"
    assert table.priority_of({"severity": "critical"}) == "P0"
    assert table.priority_of({"severity": "warning"}) == "P2"
    assert table.priority_of({}) == "P3"


def test_shipped_table_matches_spec_r2(settings: RouterSettings) -> None:
    table = load_routing_table(SHIPPED, settings)
    targets = {p: sorted(table.route(p).targets()) for p in ("P0", "P1", "P2", "P3")}
    assert targets == {
        "P0": ["jira", "pagerduty", "slack"],
        "P1": ["email", "jira", "pagerduty", "slack"],
        "P2": ["slack"],
        "P3": ["email"],
    }
    assert table.route("P0").slack.channel == "#alerts-critical"  # type: ignore[union-attr]
    assert table.route("P1").slack.channel == "#alerts-high"  # type: ignore[union-attr]
    assert table.route("P2").slack.channel == "#alerts-warning"  # type: ignore[union-attr]


def test_invalid_table_names_the_place(tmp_path: Path, settings: RouterSettings) -> None:
    bad = tmp_path / "routing.yml"
    bad.write_text("priorities:\n  P0:\n    slack: {channnel: '#x'}\n  P9: {}\n")
    with pytest.raises(RoutingError) as caught:
        load_routing_table(bad, settings)
    message = str(caught.value)
    assert "priorities.P0.slack.channnel" in message
    assert "P9" in message


def test_missing_pagerduty_key_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOUNDCHECK_ROUTER_PAGERDUTY_KEY_PAYMENTS", raising=False)
    table = tmp_path / "routing.yml"
    table.write_text("priorities:\n  P0:\n    pagerduty: {service: payments}\n")
    with pytest.raises(RoutingError, match="SOUNDCHECK_ROUTER_PAGERDUTY_KEY_PAYMENTS"):
        load_routing_table(table, RouterSettings())


def test_backoff_grows_with_jitter_and_stays_under_the_cap() -> None:
    delays = [backoff_seconds(n, 1.0, 30.0) for n in range(1, 12)]
    assert 0.5 <= delays[0] <= 1.0
    assert all(d <= 30.0 for d in delays)
    assert delays[-1] >= 15.0
