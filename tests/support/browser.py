"""Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by Playwright (no browser
download), pages that may not reach off their own host, and screenshots kept as test artifacts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, Route, sync_playwright

from soundcheck import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO_ROOT / "results" / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
NAVIGATION_TIMEOUT_MS = 120_000
SAVED_SCREENSHOTS: list[Path] = []  # this session's, listed at the end of the run


@contextmanager
def launch_chromium(profile: Path) -> Iterator[BrowserContext]:
    """Chromium with a fresh profile (`--user-data-dir`): nothing cached from an earlier run."""
    if not CHROMIUM.exists():
        raise AssertionError("Debian's chromium is missing: run `make setup` (it installs it).")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 900},
        )
        # Generous: on the shared 2-core machine a page can take tens of seconds to load.
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        context.set_default_timeout(NAVIGATION_TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class OnHostPage:
    """A page whose requests off `home` (another host or port; for a file, any other URL) are
    refused and recorded, so a test can fail on a page that needs the network."""

    page: Page
    home: str
    requested: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def allowed(self, url: str) -> bool:
        if self.home.startswith("file:"):
            return url == self.home
        return origin(url) == origin(self.home)

    def route(self, route: Route) -> None:
        url = route.request.url
        self.requested.append(url)
        if self.allowed(url):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort()

    def assert_stayed_on_host(self) -> None:
        assert not self.refused, f"the page asked off its host for {self.refused}"


def open_on_host(context: BrowserContext, url: str, home: str | None = None) -> OnHostPage:
    """Open `url` with every request off `home` (default: `url`'s own origin) refused."""
    guarded = OnHostPage(context.new_page(), home or url)
    guarded.page.route("**/*", guarded.route)
    guarded.page.goto(url)
    return guarded


@contextmanager
def page_on_host(context: BrowserContext, url: str, home: str | None = None) -> Iterator[Page]:
    """`open_on_host` as a block: the page is closed at its end, and the test fails there if the
    page asked for anything off its host."""
    guarded = open_on_host(context, url, home)
    try:
        yield guarded.page
    finally:
        guarded.page.close()
    guarded.assert_stayed_on_host()


def save_screenshot(page: Page, name: str) -> Path:
    """A full-page PNG under ARTIFACTS (`results/test-artifacts/<name>.png`), listed at the end of
    the test run."""
    path = ARTIFACTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    SAVED_SCREENSHOTS.append(path)
    return path
