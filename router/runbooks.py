"""Runbooks (`runbooks/<alertname>.md`) served as HTML, so an alert's link opens a readable page."""

from __future__ import annotations

import html
import re
from pathlib import Path

import markdown

NAME = re.compile(r"^[A-Za-z0-9_:.-]{1,200}$")
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;
line-height:1.5}}
pre,code{{background:#f4f4f4}}pre{{padding:.6rem;overflow:auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2rem .5rem}}</style></head><body>{body}</body></html>"""


def runbook_names(directory: Path) -> list[str]:
    return sorted(
        p.stem for p in directory.glob("*.md") if NAME.match(p.stem) and p.stem.lower() != "readme"
    )


def runbook_exists(directory: Path, alertname: str) -> bool:
    """Whether `/runbooks/<alertname>` serves a page (links to a 404 help nobody at 3 a.m.)."""
    return bool(NAME.match(alertname)) and (directory / f"{alertname}.md").is_file()


def render_runbook(directory: Path, alertname: str) -> str | None:
    """The page as HTML, or None when no runbook has that name (or the name is not a name)."""
    if not runbook_exists(directory, alertname):
        return None
    body = markdown.markdown(
        (directory / f"{alertname}.md").read_text(), extensions=["tables", "fenced_code", "toc"]
    )
    return PAGE.format(title=html.escape(f"Runbook: {alertname}"), body=body)


def render_index(directory: Path) -> str:
    items = "".join(
        f'<li><a href="/runbooks/{html.escape(n)}">{html.escape(n)}</a></li>'
        for n in runbook_names(directory)
    )
    return PAGE.format(
        title="Runbooks", body=f"<h1>Runbooks</h1><ul>{items or '<li>none yet</li>'}</ul>"
    )
