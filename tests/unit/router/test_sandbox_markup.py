"""The sandbox page's Slack mrkdwn and Jira wiki rendering: the products' markup becomes tags,
anything an alert's author wrote stays text, and only http(s)/mailto links are followed."""

from __future__ import annotations

from sandbox.markup import jira_wiki, safe_href, slack_mrkdwn

SCRIPT = "<script>alert(1)</script>"


def test_slack_mrkdwn_draws_bold_links_and_mentions_and_escapes_the_rest() -> None:
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"  # as the router sends alert text
    html = slack_mrkdwn(f"*down* <https://a.example/x?a=1&amp;b=2|runbook> <!channel> {escaped}")
    assert "<b>down</b>" in html
    assert '<a href="https://a.example/x?a=1&amp;b=2"' in html
    assert '<span class="mention">@channel</span>' in html
    assert escaped in html
    assert "<script" not in slack_mrkdwn(SCRIPT)  # unescaped, Slack reads <...> as a link


def test_slack_links_to_other_schemes_are_only_their_label() -> None:
    html = slack_mrkdwn("<javascript:alert(1)|click>")
    assert html == "click"
    assert safe_href(" javascript:alert(1)") is None
    assert safe_href("mailto:oncall@example.com") == "mailto:oncall@example.com"


def test_jira_wiki_draws_headings_lists_tables_and_keeps_escapes_literal() -> None:
    html = jira_wiki(
        f"h3. Alert \\*x\\* {SCRIPT}\n* [runbook|http://r.example/a]\n* [bad|javascript:x]\n\n"
        "||label||value||\n|instance|a\\|b|"
    )
    assert "<h3>Alert *x* &lt;script&gt;alert(1)&lt;/script&gt;</h3>" in html
    assert (
        '<li><a href="http://r.example/a" rel="noreferrer noopener" target="_blank">runbook' in html
    )
    assert "<li>bad</li>" in html
    assert "<tr><th>label</th><th>value</th></tr><tr><td>instance</td><td>a|b</td></tr>" in html


def test_a_line_the_router_moved_off_the_start_is_no_heading() -> None:
    assert "<h1>" not in jira_wiki("\u200bh1. not a heading")
