"""Slack through `slack-sdk`: one Block Kit message per alert, updated in place on resolve.

Re-fires reply in the message's thread instead of posting again; the channel id and ts are in the
store, so this survives restarts (Alertmanager's own `update_message` keeps them in memory). Each
post carries message metadata naming its delivery, so a post interrupted by a crash is found in
the channel's history instead of being posted twice.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from router.graph import render_graph
from router.notifiers.base import GraphSource, status_word
from router.outcome import Delivered, GiveUp, Job, Outcome, RetryLater, retry_after_seconds
from router.settings import RouterSettings
from router.text import one_line, slack_escape, truncate

log = logging.getLogger(__name__)
METADATA_EVENT = "soundcheck_alert"
RETRYABLE_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}
# A reply to (or an update of) an alert's first post finds it gone: deleted in Slack.
MESSAGE_GONE = {"thread_not_found", "message_not_found"}
# Plain URL buttons: Acknowledge and Silence open the incident page's confirmation (a link
# preview never acts), so no Slack interactivity endpoint is needed.
BUTTONS = (
    ("incident", "Open incident"),
    ("acknowledge", "Acknowledge"),
    ("silence", "Silence"),
    ("runbook", "Runbook"),
    ("dashboard", "Dashboard"),
    ("logs", "Logs"),
    ("grafana", "Grafana"),
    ("kibana", "Kibana"),
    ("alertmanager", "Alertmanager"),
)
ACT_BUTTONS = ("acknowledge", "silence")  # gone from the message once it resolves
# Block Kit's limits: header 150, section text 3000, 10 fields of 2000, button text 75 and
# url 3000, context text 2000 (a message above one is refused with `invalid_blocks`).
HEADER_LIMIT, TEXT_LIMIT, FIELD_LIMIT, URL_LIMIT = 150, 3000, 2000, 3000
BUTTON_TEXT_LIMIT, CONTEXT_LIMIT, MAX_FIELDS = 75, 2000, 10
SHOWN_LABELS = ("service", "severity", "priority", "instance", "job")


def plain(text: str, limit: int) -> dict[str, Any]:
    """Plain text never renders mentions, links or formatting: label text stays inert."""
    return {"type": "plain_text", "text": truncate(text, limit) or " ", "emoji": False}


def blocks_for(job: Job, state: str) -> list[dict[str, Any]]:
    icon = {"FIRING": "🔴", "RESOLVED": "✅"}[state]
    labels = job.labels
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": plain(f"{icon} {state} {job.priority} {job.alertname}", HEADER_LIMIT),
        },
        {"type": "section", "text": plain(job.summary, TEXT_LIMIT)},
    ]
    description = job.annotations.get("description")
    if description:
        blocks.append({"type": "section", "text": plain(description, TEXT_LIMIT)})
    fields = [
        plain(f"{name}: {labels[name]}", FIELD_LIMIT) for name in SHOWN_LABELS if name in labels
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields[:MAX_FIELDS]})
    if job.more_alerts_note:
        blocks.append({"type": "section", "text": plain(job.more_alerts_note, TEXT_LIMIT)})
    buttons = [
        {
            "type": "button",
            "text": plain(text, BUTTON_TEXT_LIMIT),
            "url": job.links[name],
            "action_id": f"open_{name}",
        }
        for name, text in BUTTONS
        if name in job.links
        and len(job.links[name]) <= URL_LIMIT
        and not (state == "RESOLVED" and name in ACT_BUTTONS)
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    blocks.append(
        {
            "type": "context",
            "elements": [
                plain(
                    f"started {job.alert.get('startsAt', '')} · group {job.group_key}",
                    CONTEXT_LIMIT,
                )
            ],
        }
    )
    return blocks


def fallback_text(job: Job, state: str) -> str:
    """The notification text (mrkdwn): escaped so `<!channel>` in a label pings nobody."""
    return truncate(
        slack_escape(one_line(f"{state} {job.priority} {job.alertname}: {job.summary}")), TEXT_LIMIT
    )


class SlackNotifier:
    target = "slack"

    def __init__(self, settings: RouterSettings, graph: GraphSource | None = None) -> None:
        self.settings = settings
        self.graph = graph or partial(render_graph, settings)  # tests pass their own
        token = settings.slack_token.get_secret_value() if settings.slack_token else None
        self.client = WebClient(
            token=token, base_url=settings.slack_url, timeout=int(settings.target_timeout_seconds)
        )
        self._channel_ids: dict[str, str] = {}

    def deliver(self, job: Job) -> Outcome:
        try:
            if job.firing:
                return self._fire(job)
            return self._resolve(job)
        except SlackApiError as error:
            return self._api_error(error)
        except (SlackClientError, URLError, OSError) as error:
            return RetryLater(f"Slack unreachable: {error}")

    def _fire(self, job: Job) -> Outcome:
        state = status_word(job)
        if job.ref:  # the alert fired before: reply in its thread, show it firing again
            try:
                return self._fire_again(job, job.ref, state)
            except SlackApiError as error:
                if error.response.get("error") not in MESSAGE_GONE:
                    raise
                # Someone deleted the first post (or its channel's history is gone): a reply
                # would be lost, so the alert gets a new post of its own.
                log.warning(
                    "the alert's first Slack post is gone; posting a new one",
                    extra={"event": "slack.thread_gone", "error.message": str(error)},
                )
        found = self._find_interrupted_post(job) if job.interrupted else None
        if found:
            return Delivered(found, note="found the post of an interrupted attempt")
        response = self.client.chat_postMessage(
            channel=job.route["channel"],
            text=fallback_text(job, state),
            blocks=blocks_for(job, state),
            metadata=self._metadata(job),
            unfurl_links=False,
        )
        ref = {"channel": response["channel"], "ts": response["ts"]}
        self._upload_graph(job, ref)
        return Delivered(ref)

    def _fire_again(self, job: Job, ref: dict[str, Any], state: str) -> Outcome:
        channel, ts = ref["channel"], ref["ts"]
        if not (job.interrupted and self._replied_already(job, channel, ts)):
            self.client.chat_postMessage(
                channel=channel,
                thread_ts=ts,
                text=fallback_text(job, "FIRING AGAIN"),
                blocks=blocks_for(job, state),
                metadata=self._metadata(job),
            )
        self.client.chat_update(
            channel=channel,
            ts=ts,
            text=fallback_text(job, state),
            blocks=blocks_for(job, state),
        )
        return Delivered(ref, note="replied in thread")

    def _resolve(self, job: Job) -> Outcome:
        if not job.ref:
            return GiveUp("no Slack message to update: the alert's firing post was never made")
        state = status_word(job)
        self.client.chat_update(
            channel=job.ref["channel"],
            ts=job.ref["ts"],
            text=fallback_text(job, state),
            blocks=blocks_for(job, state),
        )
        return Delivered(job.ref, note="updated")

    def _metadata(self, job: Job) -> dict[str, Any]:
        return {
            "event_type": METADATA_EVENT,
            "event_payload": {"delivery": job.delivery_key, "alert": job.identity},
        }

    def _find_interrupted_post(self, job: Job) -> dict[str, Any] | None:
        channel = self._channel_id(job.route["channel"])
        try:
            response = self.client.conversations_history(
                channel=channel, include_all_metadata=True, limit=200
            )
        except SlackApiError as error:
            if error.response.get("error") == "channel_not_found":
                return None  # nothing was ever posted there
            raise
        messages: list[dict[str, Any]] = response.get("messages", [])
        for message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("delivery") == job.delivery_key:
                return {"channel": channel, "ts": message["ts"]}
        return None

    def _replied_already(self, job: Job, channel: str, ts: str) -> bool:
        """Whether an interrupted attempt's thread reply landed (found by its metadata)."""
        response = self.client.conversations_replies(
            channel=channel, ts=ts, include_all_metadata=True, limit=200
        )
        messages: list[dict[str, Any]] = response.get("messages", [])
        return any(
            ((m.get("metadata") or {}).get("event_payload") or {}).get("delivery")
            == job.delivery_key
            for m in messages
        )

    def _channel_id(self, channel: str) -> str:
        """conversations.history wants an id; a routing table may name the channel instead."""
        name = channel.lstrip("#")
        if name in self._channel_ids:
            return str(self._channel_ids[name])
        cursor = None
        while True:
            page = self.client.conversations_list(
                types="public_channel,private_channel", limit=200, cursor=cursor
            )
            listed: list[dict[str, str]] = page.get("channels", [])
            for item in listed:
                self._channel_ids[item["name"]] = item["id"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if name in self._channel_ids or not cursor:
                return str(self._channel_ids.get(name, channel))

    def _upload_graph(self, job: Job, ref: dict[str, Any]) -> None:
        """The graph goes into the message's thread; a failure here never re-posts the alert."""
        try:
            png = self.graph(job.alert)
            if png:
                self.client.files_upload_v2(
                    channel=ref["channel"],
                    thread_ts=ref["ts"],
                    content=png,
                    filename=f"{job.alertname}.png",
                    title=f"{job.alertname}: last hour",
                )
        except (SlackApiError, SlackClientError, URLError, OSError) as error:
            log.warning(
                "The graph could not be uploaded to Slack",
                extra={"event": "slack.graph_upload_failed", "error.message": str(error)},
            )

    def _api_error(self, error: SlackApiError) -> Outcome:
        response = error.response
        status = response.status_code
        code = str(response.get("error", "")) if response.data else ""
        if status == 429 or code == "ratelimited":
            return RetryLater(
                "Slack rate limit (429)",
                retry_after_seconds(
                    response.headers.get("Retry-After") or response.headers.get("retry-after")
                ),
            )
        if status >= 500 or code in RETRYABLE_ERRORS:
            return RetryLater(f"Slack answered {status} {code}")
        return GiveUp(f"Slack refused the message: {code or status}")
