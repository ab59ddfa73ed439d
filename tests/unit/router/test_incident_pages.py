"""The incident pages in-process: hostile alert text stays text, actions need a console login,
a form token and the router's own origin, acknowledging plans one PagerDuty `acknowledge` and
holds re-fires, and links lead to the router's own pages unless outside tools are configured."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from router.app import create_app
from router.links import links_for
from router.settings import RouterSettings
from tests.support.router_webhooks import bearer, payload

PASSWORD = "console-secret-1"
HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture
def console(settings: RouterSettings) -> Iterator[TestClient]:
    with_console = settings.model_copy(
        update={"console_password": SecretStr(PASSWORD), "elasticsearch_url": "http://127.0.0.1:9"}
    )
    app = create_app(with_console, start_worker=False, instrumented=False)
    with TestClient(app, base_url="http://router.test") as client:
        yield client


def fired(client: TestClient, starts_at: str = "2026-11-24T08:00:00Z", **labels: str) -> str:
    body = payload(**labels)
    body["alerts"][0]["startsAt"] = starts_at
    body["alerts"][0]["annotations"] = {
        "summary": HOSTILE,
        "runbook_url": "javascript:alert(3)",
        "description": "x" * 5_000,
    }
    assert client.post("/alerts", json=body, headers=bearer()).status_code == 200
    listing = client.get("/incidents").text
    found = re.findall(r'href="/incidents/([0-9A-Za-z]+-[0-9a-f]{10})"', listing)
    assert found, listing
    return found[0]


def logged_in(client: TestClient) -> None:
    answer = client.post(
        "/login",
        data={"user": "oncall", "password": PASSWORD, "next": "/incidents"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert match, "no form token on the page"
    return match[1]


def sqlite_rows(settings: RouterSettings, sql: str) -> list[Any]:
    with sqlite3.connect(settings.database_url.removeprefix("sqlite:///")) as db:
        return list(db.execute(sql))


def test_hostile_labels_and_annotations_stay_text(console: TestClient) -> None:
    incident = fired(console, evil=HOSTILE)
    page = console.get(f"/incidents/{incident}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in (
        page.text
    )
    assert 'href="javascript:' not in page.text
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text, "the runbook's raw HTML is escaped"
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
    assert "Elasticsearch at http://127.0.0.1:9 did not answer" in page.text


def test_actions_need_a_login_a_form_token_and_the_routers_origin(console: TestClient) -> None:
    incident = fired(console)
    confirm = console.get(f"/incidents/{incident}/acknowledge")
    assert "Log in to continue" in confirm.text, "a link opened from Slack never acts"
    anonymous = console.post(f"/incidents/{incident}/acknowledge", data={"csrf": "0"})
    assert anonymous.status_code == 403
    assert "Log in first" in anonymous.text

    logged_in(console)
    token = csrf_of(console.get(f"/incidents/{incident}/acknowledge").text)
    forged = console.post(f"/incidents/{incident}/acknowledge", data={"csrf": "f" * 64})
    assert forged.status_code == 403
    assert "stale or forged" in forged.text
    cross_site = console.post(
        f"/incidents/{incident}/acknowledge",
        data={"csrf": token},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    assert "another site" in cross_site.text
    settings: RouterSettings = console.app.state.parts.settings  # type: ignore[attr-defined]
    assert not sqlite_rows(settings, "SELECT * FROM incident_actions")


def test_login_refuses_a_wrong_password_and_redirects_only_within_the_router(
    console: TestClient,
) -> None:
    wrong = console.post("/login", data={"user": "oncall", "password": "nope"})
    assert wrong.status_code == 401
    assert "Wrong user or password" in wrong.text
    away = console.post(
        "/login",
        data={"user": "oncall", "password": PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert away.headers["location"] == "/incidents"
    assert "samesite=lax" in away.headers["set-cookie"].lower()
    assert "httponly" in away.headers["set-cookie"].lower()


def test_acknowledge_plans_one_pagerduty_acknowledge_and_holds_refires(
    console: TestClient,
) -> None:
    settings: RouterSettings = console.app.state.parts.settings  # type: ignore[attr-defined]
    incident = fired(console)
    logged_in(console)
    token = csrf_of(console.get(f"/incidents/{incident}/acknowledge").text)
    for _ in range(2):  # a double click acknowledges once
        done = console.post(f"/incidents/{incident}/acknowledge", data={"csrf": token})
        assert done.status_code == 200
        assert "acknowledged by oncall" in done.text
    assert sqlite_rows(settings, "SELECT action FROM incident_actions") == [("acknowledge",)]
    acks = "SELECT target FROM deliveries WHERE action = 'acknowledge'"
    assert sqlite_rows(settings, acks) == [("pagerduty",)]

    before = sqlite_rows(settings, "SELECT count(*) FROM deliveries")
    refire = payload()
    refire["alerts"][0]["startsAt"] = "2026-11-24T09:00:00Z"  # it fired again: a new episode
    assert console.post("/alerts", json=refire, headers=bearer()).status_code == 200
    assert sqlite_rows(settings, "SELECT count(*) FROM deliveries") == before
    assert "router_refires_held_total 1.0" in console.get("/metrics").text


def test_links_lead_to_the_routers_pages_and_keep_outside_tools_when_configured(
    settings: RouterSettings,
) -> None:
    alert = payload()["alerts"][0]
    alert["annotations"]["dashboard_url"] = (
        "http://127.0.0.1:3000/d/soundcheck-infrastructure/infrastructure?viewPanel=6"
    )
    own = links_for(settings, alert)
    base = settings.own_url()
    assert own["incident"].startswith(f"{base}/incidents/f00d-")
    assert own["acknowledge"] == own["incident"] + "/acknowledge"
    assert own["dashboard"] == f"{base}/dashboards/soundcheck-infrastructure?viewPanel=6"
    assert own["logs"].startswith(f"{base}/logs?q=service.name")
    assert not {"grafana", "kibana", "alertmanager"} & set(own)
    outside = settings.model_copy(
        update={
            "grafana_url": "http://grafana:3000",
            "kibana_url": "http://kibana:5601",
            "alertmanager_ui_url": "http://alertmanager:9093",
        }
    )
    both = links_for(outside, alert)
    assert both["grafana"].startswith("http://127.0.0.1:3000/d/soundcheck-infrastructure")
    assert both["kibana"].startswith("http://kibana:5601/app/discover")
    assert both["alertmanager"].startswith("http://alertmanager:9093/#/silences/new")
    assert both["incident"] == own["incident"]


def test_every_page_has_the_one_navigation_bar_with_its_own_section_marked(
    console: TestClient,
) -> None:
    incident = fired(console)
    nav = re.compile(r"<nav>(.*?)</nav>", re.S)
    pages = {
        f"/incidents/{incident}": "Incidents",
        "/incidents": "Incidents",
        "/dashboards": "Dashboards",
        f"/incidents/{incident}/silence": None,
        "/login": None,
    }
    for path, marked in pages.items():
        answer = console.get(path)
        assert answer.status_code == 200, path
        assert '<link rel="stylesheet" href="/static/views.css">' in answer.text, path
        assert "'self'" in answer.headers["content-security-policy"].split("style-src")[1]
        [bar] = nav.findall(answer.text)
        names = re.findall(r'<a href="/(\w+)"(?: class="here")?>(\w+)</a>', bar)
        assert [name for _, name in names] == ["Incidents", "Logs", "Dashboards", "Runbooks"], path
        here = re.findall(r'class="here">(\w+)<', bar)
        assert here == ([marked] if marked else []), path
    # The base template's names never shadow a page's own (the confirmation's `here`).
    confirmation = console.get(f"/incidents/{incident}/silence").text
    assert f'href="/login?next=/incidents/{incident}/silence"' in confirmation
