"""The incident console of a test's own router: its password, and logging in from a browser."""

from __future__ import annotations

from playwright.sync_api import Page

CONSOLE_PASSWORD = "e2e-console-password"
CONSOLE_USER = "oncall"


def log_in(page: Page) -> None:
    """On a "Log in to continue" confirmation: log in, and land back on it."""
    page.click("text=Log in to continue")
    page.fill("input[name=user]", CONSOLE_USER)
    page.fill("input[name=password]", CONSOLE_PASSWORD)
    page.click("button[type=submit]")
