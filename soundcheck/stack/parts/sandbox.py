"""The sandbox: local PagerDuty / Slack / Jira / SMTP stand-ins that the real clients talk to."""

from __future__ import annotations

import sys

from instrumentation.settings_contract import child_environment
from sandbox.settings import SandboxSettings
from soundcheck.stack.part import Part, expect_http_ok

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
        return child_environment(
            (SandboxSettings,),
            {
                "SOUNDCHECK_SANDBOX_HOST": s.host,
                "SOUNDCHECK_SANDBOX_PORT": s.sandbox_port,
                "SOUNDCHECK_SANDBOX_SMTP_PORT": s.sandbox_smtp_port,
            },
        )

    def probe(self) -> str:
        expect_http_ok(f"{self.address()}/_sandbox/health", timeout=1.0)
        return "sandbox"
