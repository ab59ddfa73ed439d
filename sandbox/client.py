"""A small client for the sandbox's inspection API, for tests, demos and the benchmark."""

from __future__ import annotations

from typing import Any

import httpx


class SandboxClient:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, timeout=10.0)

    def received(self, target: str) -> list[dict[str, Any]]:
        """Everything `target` received, newest first."""
        answer = self.http.get("/_sandbox/received", params={"target": target})
        answer.raise_for_status()
        return list(answer.json())

    def state(self) -> dict[str, Any]:
        answer = self.http.get("/_sandbox/state")
        answer.raise_for_status()
        return dict(answer.json())

    def incidents(self, dedup_key: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.state()["pagerduty"]
        return [i for i in found if dedup_key is None or i["dedup_key"] == dedup_key]

    def slack_messages(self, channel: str) -> list[dict[str, Any]]:
        return list(self.state()["slack"].get(channel.lstrip("#"), []))

    def jira_issues(self) -> list[dict[str, Any]]:
        return list(self.state()["jira"])

    def fault(self, target: str, **fault: Any) -> None:
        """Switch a fault on: `fault("pagerduty", kind="error", status=500, for_seconds=60)`."""
        self.http.put(f"/_sandbox/faults/{target}", json=fault).raise_for_status()

    def clear_fault(self, target: str) -> None:
        self.http.delete(f"/_sandbox/faults/{target}").raise_for_status()

    def jira_deployment(self, kind: str) -> None:
        self.http.put("/_sandbox/jira/deployment", params={"kind": kind}).raise_for_status()

    def reset(self) -> None:
        self.http.post("/_sandbox/reset").raise_for_status()
