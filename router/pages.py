"""HTML pages of the router (Jinja2, autoescaped): every value from an alert is text, never
markup; the only markup a page takes from elsewhere is a runbook from the repository, rendered
with its raw HTML escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import markdown
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from router.runbooks import runbook_exists

TEMPLATES = Path(__file__).parent / "templates"
# No script at all, images only from here (the graph) or inline, the stylesheet every router page
# shares (base.html, /static/views.css), forms only to here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def moment(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined
    )
    env.filters["moment"] = moment
    return env


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    page = environment().get_template(name).render(**context)
    return HTMLResponse(page, status_code=status_code, headers=SECURITY_HEADERS)


def message_page(
    title: str, sentence: str, status_code: int, back: str = "/incidents"
) -> HTMLResponse:
    """An error or notice as a page: a sentence saying what happened and where to go."""
    return render("message.html", status_code, title=title, sentence=sentence, back=back)


def runbook_markup(directory: Path, alertname: str) -> Markup | None:
    """The runbook as HTML with any raw HTML in it escaped (Markdown passes it through)."""
    if not runbook_exists(directory, alertname):
        return None
    converter = markdown.Markdown(extensions=["tables", "fenced_code"])
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return Markup(converter.convert((directory / f"{alertname}.md").read_text()))  # noqa: S704
