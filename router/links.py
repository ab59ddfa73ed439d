"""The links every message carries: runbook, dashboard, logs, silence and source.

They are built from the alert's own annotations first (the rule author knows best), then from the
router's settings, so a message is never without somewhere to click.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from router.incidents import incident_id_of
from router.metrics import ALERT_URLS_REJECTED
from router.runbooks import runbook_exists
from router.settings import RouterSettings

LOG_WINDOW_BEFORE_SECONDS = 15 * 60
# Every link fits every target: Slack's button URL takes 3000 characters, and a link people
# must open has no business being longer than 2000 (what browsers and proxies keep to).
URL_LIMIT = 2000
# The characters RFC 3986 allows in a URL: no whitespace, control characters, quotes, braces,
# pipes or angle brackets, so a link cannot end a Jira link, Slack's <url|text> or an HTML
# attribute.
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
# Labels whose values are longer than this are left out of a silence form too long to link.
SILENCE_SHORT_VALUE = 200
_GRAFANA_DASHBOARD = re.compile(r"^(?:.*)/d/(?P<uid>[A-Za-z0-9_-]{1,40})(?:/|$)")


def rison_string(text: str) -> str:
    """A Rison string literal (Kibana's URL state): quoted, with ! and ' escaped."""
    return "'" + text.replace("!", "!!").replace("'", "!'") + "'"


def _parse_time(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.year > 1 else None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def alert_service(alert: dict[str, Any]) -> str:
    labels = alert.get("labels", {})
    return str(labels.get("service") or labels.get("job") or labels.get("alertname", ""))


def kibana_link(settings: RouterSettings, alert: dict[str, Any]) -> str:
    """Discover filtered to the alert's service, from 15 min before it started to its end."""
    service = alert_service(alert)
    start = _parse_time(alert.get("startsAt"))
    end = _parse_time(alert.get("endsAt"))
    start_iso = (
        datetime.fromtimestamp(start.timestamp() - LOG_WINDOW_BEFORE_SECONDS).isoformat() + "Z"
        if start
        else "now-1h"
    )
    end_iso = (
        end.isoformat().replace("+00:00", "Z") if end and end.timestamp() < time.time() else "now"
    )
    query = f'service.name:"{service}"'
    global_state = f"(time:(from:{rison_string(start_iso)},to:{rison_string(end_iso)}))"
    app_state = (
        f"(index:{rison_string(settings.kibana_index_pattern)},"
        f"query:(language:kuery,query:{rison_string(query)}))"
    )
    return (
        f"{settings.kibana_url.rstrip('/')}/app/discover#/"
        f"?_g={quote(global_state, safe='')}&_a={quote(app_state, safe='')}"
    )


def silence_link(external_url: str, labels: dict[str, str]) -> str:
    """Alertmanager's new-silence form, pre-filled with the alert's labels."""
    matchers = ",".join(
        f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for name, value in sorted(labels.items())
    )
    return (
        f"{external_url.rstrip('/')}/#/silences/new?{urlencode({'filter': '{' + matchers + '}'})}"
    )


def safe_url(value: str) -> str | None:
    """The URL if it is a plain http(s) link with a host, only URL characters and at most
    URL_LIMIT long; None otherwise."""
    if len(value) > URL_LIMIT or not _URL_CHARACTERS.fullmatch(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    return value if parts.scheme in ("http", "https") and parts.hostname else None


def url_from_alert(value: str, field: str) -> str | None:
    """A link an alert brought, validated: a rejected one is left out and counted, so a
    hostile annotation never becomes a button, a page link or Jira markup."""
    if not value:
        return None
    url = safe_url(value)
    if url is None:
        ALERT_URLS_REJECTED.labels(field).inc()
    return url


def bounded_silence_link(external_url: str, labels: dict[str, str]) -> str | None:
    """The silence form with every label, or only the short ones when that is too long to
    link (the form shows its matchers before anyone creates the silence); None if still too
    long."""
    full = silence_link(external_url, labels)
    if len(full) <= URL_LIMIT:
        return full
    short = {k: v for k, v in labels.items() if len(v) <= SILENCE_SHORT_VALUE}
    return safe_url(silence_link(external_url, short)) if short else None


def own_runbook_link(settings: RouterSettings, alertname: str) -> str | None:
    """The router's own page for the alert, only when there is one (no link to a 404)."""
    if not runbook_exists(settings.runbooks_dir, alertname):
        return None
    return f"{settings.own_url()}/runbooks/{quote(alertname, safe='')}"


def own_logs_link(settings: RouterSettings, alert: dict[str, Any]) -> str:
    """The router's logs search (/logs) for the alert's service over its window."""
    service = alert_service(alert)
    start = _parse_time(alert.get("startsAt"))
    end = _parse_time(alert.get("endsAt"))
    window = {"q": f'service.name:"{service}"'}
    if start:
        window["from"] = _iso(start.timestamp() - LOG_WINDOW_BEFORE_SECONDS)
    if end and end.timestamp() < time.time():
        window["to"] = _iso(end.timestamp())
    return f"{settings.own_url()}/logs?{urlencode(window)}"


def own_dashboard_link(settings: RouterSettings, grafana_link: str) -> str | None:
    """The router's drawing (/dashboards/<uid>) of a Grafana dashboard link (`/d/<uid>/...`),
    its query (viewPanel) kept."""
    parts = urlsplit(grafana_link)
    match = _GRAFANA_DASHBOARD.match(parts.path)
    if match is None:
        return None
    query = f"?{parts.query}" if parts.query else ""
    return f"{settings.own_url()}/dashboards/{match['uid']}{query}"


def incident_links(settings: RouterSettings, alert: dict[str, Any]) -> dict[str, str]:
    """The incident page and its two actions' confirmation pages (GET never acts)."""
    wanted = incident_id_of(alert)
    if wanted is None:
        return {}
    page = f"{settings.own_url()}/incidents/{wanted}"
    return {
        "incident": page,
        "acknowledge": f"{page}/acknowledge",
        "silence": f"{page}/silence",
    }


def links_for(
    settings: RouterSettings, alert: dict[str, Any], external_url: str = ""
) -> dict[str, str]:
    """The incident page first; outside tools (Grafana, Kibana, Alertmanager's UI) only when
    configured, the router's own pages otherwise."""
    labels = alert.get("labels", {})
    annotations = alert.get("annotations", {})
    alertname = labels.get("alertname", "unnamed")
    dashboard = url_from_alert(
        annotations.get("dashboard_url", "") or annotations.get("dashboard", ""), "dashboard_url"
    )
    candidates: dict[str, str | None] = {
        **incident_links(settings, alert),
        "runbook": url_from_alert(annotations.get("runbook_url", ""), "runbook_url")
        or own_runbook_link(settings, alertname),
        "dashboard": own_dashboard_link(settings, dashboard) if dashboard else None,
        "logs": safe_url(own_logs_link(settings, alert)),
    }
    if settings.grafana_url:
        candidates["grafana"] = dashboard or settings.grafana_url
    elif dashboard and not candidates["dashboard"]:
        candidates["dashboard"] = dashboard  # not a Grafana link: the rule author's own page
    if not candidates["dashboard"]:  # a rule without a dashboard: the list of them
        candidates["dashboard"] = f"{settings.own_url()}/dashboards"
    if settings.kibana_url:
        candidates["kibana"] = safe_url(kibana_link(settings, alert))
    if settings.alertmanager_ui_url:  # Debian's Alertmanager has no UI: externalURL alone won't do
        ui = url_from_alert(settings.alertmanager_ui_url, "externalURL")
        candidates["alertmanager"] = bounded_silence_link(ui, labels) if ui else None
    candidates["source"] = url_from_alert(alert.get("generatorURL", ""), "generatorURL")
    return {name: url for name, url in candidates.items() if url}
