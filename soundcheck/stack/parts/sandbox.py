"""The sandbox: local PagerDuty / Slack / Jira / SMTP stand-ins that the real clients talk to."""

from __future__ import annotations

import sys

import httpx

from soundcheck import REPO_ROOT
from soundcheck.stack.part import NotReady, Part

SANDBOX_ROUTING_KEY = "sandbox0routing0key0000000000000"  # 32 characters, as PagerDuty's are


class Sandbox(Part):
    name = "sandbox"

    def port_settings(self) -> dict[str, int]:
        return {
            "sandbox_port": self.settings.sandbox_port,
            "sandbox_smtp_port": self.settings.sandbox_smtp_port,
        }

    def address(self) -> str:
        return f"http://{self.settings.host}:{self.settings.sandbox_port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "sandbox"]

    def environment(self) -> dict[str, str]:
        s = self.settings
        return {
            "PYTHONPATH": str(REPO_ROOT),
            "SOUNDCHECK_SANDBOX_HOST": s.host,
            "SOUNDCHECK_SANDBOX_PORT": str(s.sandbox_port),
            "SOUNDCHECK_SANDBOX_SMTP_PORT": str(s.sandbox_smtp_port),
        }

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prepare()
        self.process.start(self.command(), env=self.environment(), cwd=REPO_ROOT)

    def probe(self) -> str:
        try:
            answer = httpx.get(f"{self.address()}/_sandbox/health", timeout=1.0)
        except httpx.HTTPError as error:
            raise NotReady(f"no answer from {self.address()}: {error}") from error
        if answer.status_code != 200:
            raise NotReady(f"{self.address()}/_sandbox/health answered {answer.status_code}")
        return "sandbox"
