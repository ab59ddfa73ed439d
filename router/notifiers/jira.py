"""Jira through the `jira` package: one ticket per alert for P0/P1, found again by a stable label.

A re-fire comments on the open ticket, or reopens it when it was resolved within the route's
window, or opens a new one after it (jiralert's default silently opens a new ticket every time).
The lookup excludes nothing by status name, only by the status category, so custom workflows work;
Server uses `/search`, Cloud `/search/jql` (the client picks by `serverInfo.deploymentType`).
"""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

from jira import JIRA, JIRAError
from requests import RequestException

from router.graph import render_graph
from router.notifiers.base import GraphSource
from router.outcome import Delivered, GiveUp, Job, Outcome, RetryLater, retry_after_seconds
from router.settings import RouterSettings
from router.text import jira_cell, jira_escape, jira_label, jql_string, one_line, truncate

log = logging.getLogger(__name__)
SUMMARY_LIMIT = 255
# Jira refuses a text field (description, comment) above 32,767 characters; the description
# stays under it with room for a comment's first line.
DESCRIPTION_LIMIT = 30_000
TEXT_LIMIT = 4_000  # the summary and description annotations, each (escaping may double them)
CELL_LIMIT = 1_000  # a label's name or value in the table
IDENTITY_PREFIX = "soundcheck-alert-"
EPISODE_PREFIX = "soundcheck-episode-"


def identity_label(job: Job) -> str:
    return jira_label(IDENTITY_PREFIX + hashlib.sha256(job.identity.encode()).hexdigest()[:16])


def episode_label(job: Job) -> str:
    episode = f"{job.identity}|{job.alert.get('startsAt', '')}"
    return jira_label(EPISODE_PREFIX + hashlib.sha256(episode.encode()).hexdigest()[:16])


def jira_href(url: str) -> str:
    """A validated URL (router.links) inside `[name|url]`: the few URL characters Jira reads
    as markup there are percent-encoded."""
    return url.replace("[", "%5B").replace("]", "%5D").replace("!", "%21").replace("|", "%7C")


def description_for(job: Job) -> str:
    """Every line escaped; the links before the label table, so a huge label never cuts them,
    and the table stops (saying how many it left out) before Jira's limit."""
    lines = [
        f"h3. {jira_escape(one_line(truncate(job.alertname, CELL_LIMIT)))} ({job.priority})",
        jira_escape(truncate(job.summary, TEXT_LIMIT)),
        "",
        jira_escape(truncate(job.annotations.get("description", ""), TEXT_LIMIT)),
        "",
        *(f"* [{name}|{jira_href(href)}]" for name, href in job.links.items()),
        "",
    ]
    if job.more_alerts_note:
        lines += [jira_escape(job.more_alerts_note), ""]
    lines.append("||label||value||")
    used = sum(len(line) + 1 for line in lines)
    rows = sorted(job.labels.items())
    for shown, (name, value) in enumerate(rows):
        row = f"|{jira_cell(truncate(name, CELL_LIMIT))}|{jira_cell(truncate(value, CELL_LIMIT))}|"
        if used + len(row) + 100 > DESCRIPTION_LIMIT:
            lines.append(jira_escape(f"({len(rows) - shown} more labels not shown)"))
            break
        lines.append(row)
        used += len(row) + 1
    return truncate("\n".join(lines), DESCRIPTION_LIMIT)


def _parse_jira_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return None


class JiraNotifier:
    target = "jira"

    def __init__(self, settings: RouterSettings, graph: GraphSource | None = None) -> None:
        self.settings = settings
        self.graph = graph or partial(render_graph, settings)  # tests pass their own
        self._client: JIRA | None = None

    def client(self) -> JIRA:
        if self._client is None:
            token = self.settings.jira_token.get_secret_value() if self.settings.jira_token else ""
            self._client = JIRA(
                server=self.settings.jira_url.rstrip("/"),
                basic_auth=(self.settings.jira_user, token),
                max_retries=0,
                timeout=self.settings.target_timeout_seconds,
                options={"check_update": False},
            )
        return self._client

    def deliver(self, job: Job) -> Outcome:
        try:
            if job.firing:
                return self._fire(job)
            return self._resolve(job)
        except JIRAError as error:
            status = error.status_code or 0
            if status == 429:
                headers = error.response.headers if error.response is not None else {}
                return RetryLater(
                    "Jira rate limit (429)", retry_after_seconds(headers.get("Retry-After"))
                )
            if status >= 500 or status == 0:
                self._client = None
                return RetryLater(f"Jira answered {status or 'nothing'}: {str(error.text)[:200]}")
            return GiveUp(f"Jira refused the request ({status}): {str(error.text)[:300]}")
        except (RequestException, OSError) as error:
            self._client = None
            return RetryLater(f"Jira unreachable: {error}")

    def _find(self, job: Job) -> list[dict[str, Any]]:
        """This alert's tickets, newest first: by our identity label, in the route's project."""
        jql = (
            f"project = {jql_string(job.route['project'])} "
            f"AND labels = {jql_string(identity_label(job))} "
            "ORDER BY created DESC"
        )
        result = self.client().search_issues(
            jql,
            maxResults=5,
            fields=["status", "labels", "resolutiondate", "updated"],
            json_result=True,
        )
        if not isinstance(result, dict):  # json_result=True gives the JSON body
            raise JIRAError(text="Jira search answered something other than JSON")
        return list(result.get("issues", []))

    def _fire(self, job: Job) -> Outcome:
        client = self.client()
        issues = self._find(job)
        newest = issues[0] if issues else None
        if newest and episode_label(job) in newest["fields"].get("labels", []):
            return Delivered({"key": newest["key"]}, note="ticket of this episode exists")
        if newest and not self._done(newest):
            client.add_comment(
                newest["key"],
                f"Fired again at {job.alert.get('startsAt')}.\n\n{description_for(job)}",
            )
            return Delivered({"key": newest["key"]}, note="commented")
        if newest and self._within_reopen_window(newest, job):
            self._transition(newest["key"], job.route["reopen_transition"])
            client.add_comment(
                newest["key"],
                f"Fired again at {job.alert.get('startsAt')}; reopened.\n\n{description_for(job)}",
            )
            return Delivered({"key": newest["key"]}, note="reopened")
        summary = truncate(
            one_line(f"[{job.priority}] {job.alertname}: {job.summary}"), SUMMARY_LIMIT
        )
        issue = client.create_issue(
            fields={
                "project": {"key": job.route["project"]},
                "issuetype": {"name": job.route["issue_type"]},
                "priority": {"name": job.route["priority"]},
                "summary": summary,
                "description": description_for(job),
                "labels": [
                    identity_label(job),
                    episode_label(job),
                    "soundcheck",
                    jira_label(job.priority),
                ],
            },
            prefetch=False,
        )
        self._attach_graph(job, issue.key)
        return Delivered({"key": issue.key}, note="created")

    def _resolve(self, job: Job) -> Outcome:
        key = (job.ref or {}).get("key")
        issues = self._find(job) if key is None else [self.client().issue(key, fields="status").raw]
        if not issues:
            return GiveUp("no Jira ticket to resolve for this alert")
        issue = issues[0]
        if self._done(issue):
            return Delivered({"key": issue["key"]}, note="already resolved")
        self.client().add_comment(issue["key"], f"Resolved at {job.alert.get('endsAt')}.")
        self._transition(issue["key"], job.route["resolve_transition"])
        return Delivered({"key": issue["key"]}, note="resolved")

    def _transition(self, key: str, name: str) -> None:
        client = self.client()
        for transition in client.transitions(key):
            if str(transition["name"]).lower() == name.lower():
                client.transition_issue(key, transition["id"])
                return
        raise JIRAError(status_code=400, text=f"the ticket {key} has no transition named {name!r}")

    @staticmethod
    def _done(issue: dict[str, Any]) -> bool:
        status = issue["fields"].get("status") or {}
        return bool((status.get("statusCategory") or {}).get("key") == "done")

    def _within_reopen_window(self, issue: dict[str, Any], job: Job) -> bool:
        resolved = _parse_jira_time(issue["fields"].get("resolutiondate"))
        if resolved is None:
            return False
        age = datetime.now(UTC).timestamp() - resolved.timestamp()
        return age <= float(job.route["reopen_window_seconds"])

    def _attach_graph(self, job: Job, key: str) -> None:
        try:
            png = self.graph(job.alert)
            if png:
                attachment: Any = io.BytesIO(png)  # the client reads any binary file object
                self.client().add_attachment(key, attachment, filename=f"{job.alertname}.png")
        except (JIRAError, RequestException, OSError) as error:
            log.warning(
                "The graph could not be attached to the Jira issue",
                extra={"event": "jira.graph_attach_failed", "error.message": str(error)},
            )
