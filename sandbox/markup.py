"""Slack mrkdwn and Jira wiki markup drawn as HTML, the way the products show them, from text an
alert's author controls: everything is HTML-escaped first, and only the markup's own constructs
(bold, links to http(s), headings, lists, tables) become tags."""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urlsplit

from markupsafe import Markup

SAFE_SCHEMES = {"http", "https", "mailto"}
SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
SLACK_STYLES = (
    (re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"), r"<b>\1</b>"),
    (re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])"), r"<i>\1</i>"),
    (re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])"), r"<s>\1</s>"),
    (re.compile(r"`([^`\n]+)`"), r"<code>\1</code>"),
)
JIRA_ESCAPED = re.compile(r"\\(.)")
JIRA_LINK = re.compile(r"\[([^\[\]|]*)\|([^\[\]]+)\]")
JIRA_STYLES = (
    (re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])"), r"<b>\1</b>"),
    (re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])"), r"<i>\1</i>"),
    (re.compile(r"\{\{(.+?)\}\}"), r"<code>\1</code>"),
)
JIRA_HEADING = re.compile(r"h([1-6])\.\s+(.*)")
PLACEHOLDER = re.compile("\x00(\\d+)\x00")


def safe_href(url: str) -> str | None:
    """`url` if a browser may follow it from here (http, https, mailto), else None."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in SAFE_SCHEMES else None


def link(url: str, label: str) -> str:
    """An anchor for a safe URL; for any other, the label alone (escaped already)."""
    href = safe_href(url)
    if href is None:
        return label
    return f'<a href="{escape(href)}" rel="noreferrer noopener" target="_blank">{label}</a>'


def unslack(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_styled(text: str) -> str:
    html = escape(unslack(text), quote=False)
    for pattern, replacement in SLACK_STYLES:
        html = pattern.sub(replacement, html)
    return html.replace("\n", "<br>")


def slack_mrkdwn(text: str) -> Markup:
    """Slack's mrkdwn: `<url|label>` links, *bold*, _italic_, ~strike~, `code`, mentions."""
    out, position = [], 0
    for match in SLACK_LINK.finditer(text):
        out.append(slack_styled(text[position : match.start()]))
        target, label = match.group(1), match.group(2)
        if target.startswith(("!", "@", "#")):
            out.append(f'<span class="mention">@{escape(target[1:].split("|")[0])}</span>')
        else:
            out.append(link(unslack(target), slack_styled(label or target)))
        position = match.end()
    out.append(slack_styled(text[position:]))
    return Markup("".join(out))  # noqa: S704 - built from escaped text only


def jira_inline(text: str) -> str:
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        kept.append(match.group(1))
        return f"\x00{len(kept) - 1}\x00"

    html = escape(JIRA_ESCAPED.sub(hold, text), quote=False)
    html = JIRA_LINK.sub(lambda m: link(restore(m.group(2), kept, False), m.group(1)), html)
    for pattern, replacement in JIRA_STYLES:
        html = pattern.sub(replacement, html)
    return restore(html, kept, True)


def restore(html: str, kept: list[str], escaped: bool) -> str:
    return PLACEHOLDER.sub(
        lambda m: escape(kept[int(m.group(1))]) if escaped else kept[int(m.group(1))], html
    )


def jira_cells(line: str, marker: str) -> list[str]:
    """The cells of a table row; an escaped `\\|` stays inside its cell."""
    cells = re.split(r"(?<!\\)" + re.escape(marker), line.strip())
    return [jira_inline(cell) for cell in cells[1:-1]]


def jira_wiki(text: str) -> Markup:
    """Jira wiki markup: h1.-h6. headings, `*` lists, `||` / `|` tables, {code}/{noformat}
    blocks, [label|url] links, *bold*, _italic_, {{monospace}} and backslash escapes."""
    out: list[str] = []
    open_block = ""

    def close() -> None:
        nonlocal open_block
        if open_block:
            out.append(f"</{open_block}>")
            open_block = ""

    def ensure(block: str) -> None:
        nonlocal open_block
        if open_block != block:
            close()
            out.append(f"<{block}>")
            open_block = block

    preformatted = False
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip() in ("{code}", "{noformat}") or re.fullmatch(r"\{code:[^}]*\}", line):
            close()
            out.append("</pre>" if preformatted else "<pre>")
            preformatted = not preformatted
            continue
        if preformatted:
            out.append(escape(line) + "\n")
            continue
        heading = JIRA_HEADING.fullmatch(line)
        if heading:
            close()
            level = heading.group(1)
            out.append(f"<h{level}>{jira_inline(heading.group(2))}</h{level}>")
        elif line.startswith(("* ", "- ", "# ")):
            ensure("ul")
            out.append(f"<li>{jira_inline(line[2:])}</li>")
        elif line.startswith("||"):
            ensure("table")
            out.append("<tr>" + "".join(f"<th>{c}</th>" for c in jira_cells(line, "||")) + "</tr>")
        elif line.startswith("|"):
            ensure("table")
            out.append("<tr>" + "".join(f"<td>{c}</td>" for c in jira_cells(line, "|")) + "</tr>")
        elif not line.strip():
            close()
        else:
            ensure("p")
            out.append(jira_inline(line) + "<br>")
    close()
    if preformatted:
        out.append("</pre>")
    return Markup("".join(out))  # noqa: S704 - built from escaped text only
