"""Making label text inert for each target, and short enough for its limits.

Labels come from anyone who can write a metric; they must never ping a Slack channel, render Jira
markup, or change a JQL query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

ELLIPSIS = "…"
_JIRA_SPECIAL = re.compile(r"([\\{}\[\]*_\-+^~|!#?()])")
# Block markup Jira reads only at the start of a line (`h1.` heading, `bq.` quote); a dot is not
# special elsewhere, so a zero-width space in front is what keeps such a line plain text.
_JIRA_LINE_MARKUP = re.compile(r"^(\s*)(h[1-6]\.|bq\.)", re.MULTILINE | re.IGNORECASE)
ZERO_WIDTH_SPACE = "\u200b"


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)] + ELLIPSIS


def one_line(text: str) -> str:
    return " ".join(text.split())


def slack_escape(text: str) -> str:
    """Slack's three control characters, so `<!channel>` or `<url|x>` stay literal text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def jira_escape(text: str) -> str:
    """Jira wiki markup: every special character backslash-escaped, and a line that starts like
    a heading or quote (`h1.`, `bq.`) moved off the line start, so it renders as typed."""
    escaped = _JIRA_SPECIAL.sub(r"\\\1", text)
    return _JIRA_LINE_MARKUP.sub(lambda m: m.group(1) + ZERO_WIDTH_SPACE + m.group(2), escaped)


def jira_cell(text: str) -> str:
    """A table cell: one line (a newline would end the row), escaped, never empty."""
    return jira_escape(one_line(text)) or " "


def bounded_values(values: Mapping[str, str], limit: int) -> dict[str, str]:
    """Every value cut to `limit` characters: one huge label must not crowd out the rest."""
    return {name: truncate(value, limit) for name, value in values.items()}


def jql_string(value: str) -> str:
    """A JQL string literal: quoted, with backslash and quotes escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")
    escaped = escaped.replace("\n", " ").replace("\r", " ")
    return f'"{escaped}"'


def jira_label(text: str) -> str:
    """A valid Jira label: no whitespace, at most 255 characters."""
    return truncate(re.sub(r"\s+", "_", text.strip()) or "_", 255)
