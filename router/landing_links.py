"""Where a notification landed, asked from the tool that holds it, as a person opens it: Slack's
`chat.getPermalink` for a message, PagerDuty's REST API (`GET /incidents?incident_key=`) for an
incident's `html_url`. The sandbox answers both with places on its own page, so the same code
links the local stack and the real services. An address found is kept (it never changes); a tool
that cannot answer leaves the timeline entry as text for a minute, and the page is drawn anyway."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.error import URLError
from urllib.parse import quote

import httpx2
from pagerduty.errors import Error as PagerDutyError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from router.links import safe_url
from router.notifiers.pagerduty import IncidentsClient
from router.settings import RouterSettings

log = logging.getLogger(__name__)
ASK_TIMEOUT_SECONDS = 3  # the incident page waits for these answers
KEPT = 2000
RETRY_AFTER_SECONDS = 60.0  # a page drawn again soon does not wait on a failing tool again
_found: dict[tuple[str, str], str] = {}
_not_found_until: dict[tuple[str, str], float] = {}
_lock = threading.Lock()


def _remembered(key: tuple[str, str], ask: Callable[[], str | None]) -> str | None:
    with _lock:
        if key in _found:
            return _found[key]
        if _not_found_until.get(key, 0.0) > time.monotonic():
            return None
    url = ask()
    with _lock:
        if len(_found) + len(_not_found_until) >= KEPT:
            _found.clear()
            _not_found_until.clear()
        if url is None:
            _not_found_until[key] = time.monotonic() + RETRY_AFTER_SECONDS
        else:
            _found[key] = url
    return url


def slack_permalink(settings: RouterSettings, channel: str, ts: str) -> str | None:
    """The message's permalink from chat.getPermalink, else one built from SLACK_WORKSPACE_URL."""
    return _remembered(
        ("slack", f"{settings.slack_url} {channel} {ts}"), lambda: _ask_slack(settings, channel, ts)
    )


def _ask_slack(settings: RouterSettings, channel: str, ts: str) -> str | None:
    if settings.slack_token is not None:
        client = WebClient(
            token=settings.slack_token.get_secret_value(),
            base_url=settings.slack_url,
            timeout=ASK_TIMEOUT_SECONDS,
        )
        try:
            answer = client.chat_getPermalink(channel=channel, message_ts=ts)
            return safe_url(str(answer.get("permalink") or ""))
        except (SlackApiError, SlackClientError, URLError, OSError) as error:
            log.warning(
                "Slack's chat.getPermalink failed",
                extra={"event": "incident.link_failed", "error.message": str(error)[:300]},
            )
    if not settings.slack_workspace_url:
        return None
    url = f"{settings.slack_workspace_url.rstrip('/')}/archives/{quote(channel)}/p"
    return safe_url(url + quote(ts.replace(".", "")))


def pagerduty_incident_url(settings: RouterSettings, dedup_key: str) -> str | None:
    """The html_url of the incident PagerDuty opened for the dedup key (its `incident_key`)."""
    return _remembered(
        ("pagerduty", f"{settings.pagerduty_api_url} {dedup_key}"),
        lambda: _ask_pagerduty(settings, dedup_key),
    )


def _ask_pagerduty(settings: RouterSettings, dedup_key: str) -> str | None:
    if settings.pagerduty_api_token is None:
        return None
    client = IncidentsClient(
        settings.pagerduty_api_token.get_secret_value(),
        base_url=settings.pagerduty_api_url.rstrip("/"),
    )
    client.timeout = ASK_TIMEOUT_SECONDS
    client.retry = {}
    client.max_network_attempts = 0
    try:
        found: Any = client.rget("/incidents", params={"incident_key": dedup_key})
    except (PagerDutyError, httpx2.HTTPError) as error:
        log.warning(
            "PagerDuty's incident list failed",
            extra={"event": "incident.link_failed", "error.message": str(error)[:300]},
        )
        return None
    urls = [str(i.get("html_url") or "") for i in found if isinstance(i, dict)]
    # A dedup key reopened after a resolve is several incidents: the newest is listed last.
    return safe_url(urls[-1]) if urls else None
