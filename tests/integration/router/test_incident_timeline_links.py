"""The incident timeline's links to the Slack message and the PagerDuty incident, asked as the real
services allow (Slack's chat.getPermalink, PagerDuty's REST API incident list and its html_url)
with the real client libraries, against the sandbox: each lands on its own item of the sandbox
page, and a resolved incident shows as resolved there, as PagerDuty shows it."""

from __future__ import annotations

import re
import uuid

import httpx
from slack_sdk import WebClient

from router.landing_links import pagerduty_incident_url, slack_permalink
from router.notifiers.pagerduty import EventsClient
from router.settings import RouterSettings
from sandbox.client import SandboxClient
from soundcheck.stack.parts.sandbox import SANDBOX_ROUTING_KEY


def anchor_of(url: str, sandbox: SandboxClient) -> str:
    page, _, anchor = url.partition("#")
    assert page == f"{sandbox.url}/_sandbox", url
    return anchor


def test_slack_and_pagerduty_links_land_on_their_items_of_the_sandbox_page(
    router_settings: RouterSettings, sandbox: SandboxClient
) -> None:
    run = uuid.uuid4().hex[:8]
    assert router_settings.slack_token is not None
    slack = WebClient(
        token=router_settings.slack_token.get_secret_value(), base_url=router_settings.slack_url
    )
    posted = slack.chat_postMessage(channel="#alerts-critical", text=f"LinkTest {run}")
    events = EventsClient(SANDBOX_ROUTING_KEY, base_url=router_settings.pagerduty_url)
    dedup_key = events.trigger(f"[P0] FIRING LinkTest {run}", "test", dedup_key=f"link-{run}")

    message_url = slack_permalink(router_settings, str(posted["channel"]), str(posted["ts"]))
    incident_url = pagerduty_incident_url(router_settings, dedup_key)
    assert message_url is not None
    assert incident_url is not None
    message_anchor, incident_anchor = (
        anchor_of(message_url, sandbox),
        anchor_of(incident_url, sandbox),
    )
    assert message_anchor.startswith("slack-C")
    assert incident_anchor.startswith("pagerduty-P")

    events.resolve(dedup_key)
    page = httpx.get(f"{sandbox.url}/_sandbox", timeout=10).text
    message = page.partition(f'<div class="s-message" id="{message_anchor}">')[2]
    assert f"LinkTest {run}" in message.partition('<details class="raw">')[0]
    incident = re.search(
        rf'<div class="pd-incident (\w+)" id="{incident_anchor}">(.*?)<details', page, re.S
    )
    assert incident is not None
    assert incident[1] == "resolved"
    assert re.search(r"Resolved at [0-9: -]+, \d+ s after it triggered", incident[2])


def test_a_tool_that_cannot_answer_leaves_the_entry_without_a_link(
    router_settings: RouterSettings, sandbox: SandboxClient
) -> None:
    assert slack_permalink(router_settings, "C0NOSUCHONE", "1.000001") is None
    assert pagerduty_incident_url(router_settings, f"never-sent-{uuid.uuid4().hex}") is None
    without_key = router_settings.model_copy(update={"pagerduty_api_token": None})
    assert pagerduty_incident_url(without_key, "any") is None
    answer = httpx.get(f"{sandbox.url}/incidents", timeout=10)
    assert answer.status_code == 401, "the REST API wants a token, as PagerDuty's does"
