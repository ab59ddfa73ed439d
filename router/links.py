"""The links every message carries: runbook, dashboard, logs, silence and source.

They are built from the alert's own annotations first (the rule author knows best), then from the
router's settings, so a message is never without somewhere to click.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

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


def rison_string(text: str) -> str:
    """A Rison string literal (Kibana's URL state): quoted, with ! and ' escaped."""
    return "'" + text.replace("!", "!!").replace("'", "!'") + "'"


def _parse_time(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.year > 1 else None


def kibana_link(settings: RouterSettings, alert: dict[str, Any]) -> str:
    """Discover filtered to the alert's service, from 15 min before it started to its end."""
    labels = alert.get("labels", {})
    service = labels.get("service") or labels.get("job") or labels.get("alertname", "")
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


def links_for(settings: RouterSettings, alert: dict[str, Any], external_url: str) -> dict[str, str]:
    labels = alert.get("labels", {})
    annotations = alert.get("annotations", {})
    alertname = labels.get("alertname", "unnamed")
    candidates = {
        "runbook": url_from_alert(annotations.get("runbook_url", ""), "runbook_url")
        or own_runbook_link(settings, alertname),
        "dashboard": url_from_alert(
            annotations.get("dashboard_url", "") or annotations.get("dashboard", ""),
            "dashboard_url",
        )
        or settings.grafana_url,
        "logs": safe_url(kibana_link(settings, alert)),
    }
    external = url_from_alert(external_url, "externalURL")
    if external:
        candidates["silence"] = bounded_silence_link(external, labels)
    candidates["source"] = url_from_alert(alert.get("generatorURL", ""), "generatorURL")
    return {name: url for name, url in candidates.items() if url}
