"""An incident's timeline, oldest first: fired, each notification (with a link to where it
landed), acknowledged, silenced, expired, resolved, and the episodes that fired again after it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from router.incidents import Incident, Sent
from router.links import safe_url
from router.settings import RouterSettings

TARGET_NAMES = {"pagerduty": "PagerDuty", "slack": "Slack", "jira": "Jira", "email": "e-mail"}
ACTION_WORDS = {"trigger": "paged", "resolve": "resolved", "acknowledge": "acknowledged"}
STATE_WORDS = {
    "delivered": "sent",
    "pending": "queued",
    "given_up": "given up",
    "dead": "dead-lettered",
}


@dataclass(frozen=True)
class Entry:
    at: float | None
    kind: str  # fired | sent | acknowledge | silence | expire | resolved | refired
    text: str
    link: str | None = None
    link_text: str = ""


def where_it_landed(settings: RouterSettings, sent: Sent) -> tuple[str | None, str]:
    """A link to the message, ticket or incident the target made, and its name."""
    from router.landing_links import pagerduty_incident_url, slack_permalink  # their clients

    ref = sent.ref or {}
    if sent.target == "jira" and ref.get("key"):
        key = str(ref["key"])
        return safe_url(f"{settings.jira_url.rstrip('/')}/browse/{quote(key)}"), key
    if sent.target == "slack" and ref.get("ts"):
        channel, ts = str(ref.get("channel", "")), str(ref["ts"])
        return slack_permalink(settings, channel, ts), f"message {ts} in {channel}"
    if sent.target == "pagerduty" and ref.get("dedup_key"):
        dedup_key = str(ref["dedup_key"])
        return pagerduty_incident_url(settings, dedup_key), f"incident {dedup_key}"
    return None, ""


def sent_entry(settings: RouterSettings, sent: Sent) -> Entry:
    target = TARGET_NAMES.get(sent.target, sent.target)
    verb = ACTION_WORDS.get(sent.action, sent.action)
    state = STATE_WORDS.get(sent.state, sent.state)
    text = f"{target} ({sent.destination}): {verb}, {state}"
    if sent.attempts > 1:
        text += f" after {sent.attempts} attempts"
    if sent.state != "delivered" and sent.last_error:
        text += f" ({sent.last_error[:200]})"
    link, name = where_it_landed(settings, sent)
    return Entry(sent.finished_at, "sent", text, link, name)


def timeline(settings: RouterSettings, incident: Incident) -> list[Entry]:
    entries = [Entry(incident.fired_at, "fired", f"{incident.alertname} fired")]
    entries += [sent_entry(settings, sent) for sent in incident.sent]
    for action in incident.actions:
        if action.action == "acknowledge":
            text = f"acknowledged by {action.actor}"
        elif action.action == "silence":
            text = (
                f"silenced ({action.detail.get('duration', '')}) by {action.actor}, "
                f"until {action.detail.get('ends_at', '')}"
            )
        else:
            text = f"silence {action.detail.get('silence_id', '')} expired by {action.actor}"
        entries.append(Entry(action.at, action.action, text))
    if incident.resolved_at is not None:
        entries.append(Entry(incident.resolved_at, "resolved", "resolved"))
    entries += [
        Entry(at, "refired", "fired again", f"/incidents/{other}", "the next incident")
        for other, at in incident.later_episodes
    ]
    return sorted(entries, key=lambda e: (e.at is None, e.at or 0.0))
