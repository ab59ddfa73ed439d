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


def slack_incident_link(sandbox: SandboxClient, alertname: str) -> str | None:
    """The "Open incident" button's URL of the newest Slack message about `alertname` in
    #alerts-critical, as the on-call engineer would click it."""
    for message in reversed(sandbox.slack_messages("#alerts-critical", mentioning=alertname)):
        for block in message.get("blocks", []):
            for element in block.get("elements", []):
                if element.get("action_id") == "open_incident":
                    return str(element["url"])
    return None
