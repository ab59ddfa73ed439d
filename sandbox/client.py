"""A small client for the sandbox's inspection API, for tests, demos and the benchmark."""

from __future__ import annotations

import json
from typing import Any

import httpx


def only_mentioning(items: list[dict[str, Any]], text: str | None) -> list[dict[str, Any]]:
    """The items whose JSON contains `text`: a test's own traffic, not the stack router's."""
    if text is None:
        return items
    return [item for item in items if text in json.dumps(item)]


class SandboxClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=10.0)

    def received(self, target: str, mentioning: str | None = None) -> list[dict[str, Any]]:
        """Everything `target` received, newest first (only what mentions a text, if given)."""
        answer = self.http.get("/_sandbox/received", params={"target": target})
        answer.raise_for_status()
        return only_mentioning(list(answer.json()), mentioning)

    def state(self) -> dict[str, Any]:
        answer = self.http.get("/_sandbox/state")
        answer.raise_for_status()
        return dict(answer.json())

    def incidents(
        self, dedup_key: str | None = None, mentioning: str | None = None
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.state()["pagerduty"]
        keyed = [i for i in found if dedup_key is None or i["dedup_key"] == dedup_key]
        return only_mentioning(keyed, mentioning)

    def slack_messages(self, channel: str, mentioning: str | None = None) -> list[dict[str, Any]]:
        return only_mentioning(list(self.state()["slack"].get(channel.lstrip("#"), [])), mentioning)

    def jira_issues(self, mentioning: str | None = None) -> list[dict[str, Any]]:
        return only_mentioning(list(self.state()["jira"]), mentioning)

    def fault(self, target: str, **fault: Any) -> None:
        """Switch a fault on: `fault("pagerduty", kind="error", status=500, for_seconds=60)`."""
        self.http.put(f"/_sandbox/faults/{target}", json=fault).raise_for_status()

    def clear_fault(self, target: str) -> None:
        self.http.delete(f"/_sandbox/faults/{target}").raise_for_status()

    def jira_deployment(self, kind: str) -> None:
        self.http.put("/_sandbox/jira/deployment", params={"kind": kind}).raise_for_status()

    def reset(self) -> None:
        self.http.post("/_sandbox/reset").raise_for_status()
