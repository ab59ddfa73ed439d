"""The alert router (uvicorn), wired to Alertmanager's token file and, locally, to the sandbox.

Every target address and secret can be overridden from the environment, so the same stack can
point the router at the real PagerDuty, Slack and Jira.
"""

from __future__ import annotations

import os
import sys

from soundcheck import REPO_ROOT
from soundcheck.settings import StackSettings
from soundcheck.stack.part import Part, expect_http_ok
from soundcheck.stack.parts.prometheus import ensure_router_token
from soundcheck.stack.parts.sandbox import SANDBOX_ROUTING_KEY


def sandbox_targets(s: StackSettings) -> dict[str, str]:
    """The router's target addresses and credentials when the sandbox stands in for them."""
    sandbox = f"http://{s.host}:{s.sandbox_port}"
    return {
        "SOUNDCHECK_ROUTER_PAGERDUTY_URL": sandbox,
        "SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING": SANDBOX_ROUTING_KEY,
        "SOUNDCHECK_ROUTER_SLACK_URL": f"{sandbox}/slack/api/",
        "SOUNDCHECK_ROUTER_SLACK_TOKEN": "xoxb-sandbox",  # the sandbox wants the xox prefix
        "SOUNDCHECK_ROUTER_JIRA_URL": f"{sandbox}/jira",
        "SOUNDCHECK_ROUTER_JIRA_USER": "soundcheck",
        "SOUNDCHECK_ROUTER_JIRA_TOKEN": "sandbox-token",
        "SOUNDCHECK_ROUTER_SMTP_HOST": s.host,
        "SOUNDCHECK_ROUTER_SMTP_PORT": str(s.sandbox_smtp_port),
    }


def telemetry_environment(s: StackSettings) -> dict[str, str]:
    """Where the router's traces and logs go: the stack's pipeline (via `instrumentation/`)."""
    return {
        "SOUNDCHECK_SERVICE_NAME": "router",
        "SOUNDCHECK_OTLP_ENDPOINT": f"http://{s.host}:{s.pipeline_otlp_port}",
        "SOUNDCHECK_FLUENT_HOST": s.host,
        "SOUNDCHECK_FLUENT_PORT": str(s.pipeline_forward_port),
    }


class Router(Part):
    name = "router"
    working_dir = REPO_ROOT

    def port_settings(self) -> dict[str, int]:
        return {"router_port": self.settings.router_port}

    def address(self) -> str:
        return f"http://{self.settings.host}:{self.settings.router_port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "router"]

    def prepare(self) -> None:
        ensure_router_token(self.dir / "token", self.settings)

    def environment(self) -> dict[str, str]:
        s = self.settings
        forced = {
            "PYTHONPATH": str(REPO_ROOT),
            "SOUNDCHECK_ROUTER_HOST": s.host,
            "SOUNDCHECK_ROUTER_PORT": str(s.router_port),
            "SOUNDCHECK_ROUTER_TOKEN_FILE": str(self.dir / "token"),
            "SOUNDCHECK_ROUTER_DATABASE_URL": f"sqlite:///{self.dir / 'router.db'}",
            "SOUNDCHECK_ROUTER_PROMETHEUS_URL": f"http://{s.host}:{s.prometheus_port}",
            "SOUNDCHECK_ROUTER_INSTANCE": f"local:{s.router_port}",
        }
        chosen = {name: os.environ.get(name, value) for name, value in sandbox_targets(s).items()}
        return {**chosen, **telemetry_environment(s), **forced}

    def probe(self) -> str:
        expect_http_ok(f"{self.address()}/readyz", timeout=2.0)
        return "router"
