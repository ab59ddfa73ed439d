"""The incident console of a test's router: its password, logging in from a browser, and the
incident link a Slack message carries."""

from __future__ import annotations

from playwright.sync_api import Page

from sandbox.client import SandboxClient

CONSOLE_PASSWORD = "e2e-console-password"
CONSOLE_USER = "oncall"


def log_in(page: Page) -> None:
    """On a "Log in to continue" confirmation: log in, and land back on it."""
    page.click("text=Log in to continue")
    page.fill("input[name=user]", CONSOLE_USER)
    page.fill("input[name=password]", CONSOLE_PASSWORD)
    page.click("button[type=submit]")


def slack_incident_links(sandbox: SandboxClient, alertname: str) -> list[str]:
    """The "Open incident" buttons' URLs of the Slack messages about `alertname` in
    #alerts-critical, newest first, as the on-call engineer would click them. A message's text
    names its alert (`FIRING P0 Name: summary`); a re-fire updates the first message of its
    alert, so its button leads to the newest incident."""
    links = []
    for message in reversed(sandbox.slack_messages("#alerts-critical")):
        words = str(message.get("text", "")).split()
        if len(words) < 3 or words[2].rstrip(":") != alertname:
            continue
        for block in message.get("blocks", []):
            for element in block.get("elements", []):
                if element.get("action_id") == "open_incident":
                    links.append(str(element["url"]))
    return links
