"""The alert router (uvicorn), wired to Alertmanager's token file and, locally, to the sandbox.

Every target address and secret can be overridden from the environment, so the same stack can
point the router at the real PagerDuty, Slack and Jira.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from instrumentation.settings import TelemetrySettings
from instrumentation.settings_contract import child_environment
from router.settings import RouterSettings
from soundcheck.settings import StackSettings
from soundcheck.stack.errors import StartFailed
from soundcheck.stack.part import Part, expect_http_ok
from soundcheck.stack.parts.prometheus import ensure_router_token
from soundcheck.stack.parts.sandbox import SANDBOX_ROUTING_KEY
from soundcheck.stack.telemetry import telemetry_environment

ROUTER_READS = (RouterSettings, TelemetrySettings)
OWN_TOKEN = "SOUNDCHECK_ROUTER_TOKEN"  # noqa: S105 - a variable name, not a secret
CONSOLE_PASSWORD = "SOUNDCHECK_ROUTER_CONSOLE_PASSWORD"  # noqa: S105 - a variable name
CONSOLE_PASSWORD_FILE = "console-password"  # noqa: S105 - a file name


def console_password(directory: Path) -> str:
    """The incident console's password: made once into the router's directory (readable only
    by us), so `cat .soundcheck/router/console-password` shows it; the environment wins."""
    path = directory / CONSOLE_PASSWORD_FILE
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as password_file:
            password_file.write(secrets.token_urlsafe(12))
    return path.read_text().strip()


def sandbox_targets(s: StackSettings) -> dict[str, object]:
    """The router's target addresses and credentials when the sandbox stands in for them."""
    sandbox = f"http://{s.host}:{s.sandbox_port}"
    return {
        "SOUNDCHECK_ROUTER_PAGERDUTY_URL": sandbox,
        "SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING": SANDBOX_ROUTING_KEY,
        # The REST API, for the incident timeline's links to each PagerDuty incident.
        "SOUNDCHECK_ROUTER_PAGERDUTY_API_URL": sandbox,
        "SOUNDCHECK_ROUTER_PAGERDUTY_API_TOKEN": "sandbox-rest-token",
        "SOUNDCHECK_ROUTER_SLACK_URL": f"{sandbox}/slack/api/",
        "SOUNDCHECK_ROUTER_SLACK_TOKEN": "xoxb-sandbox",  # the sandbox wants the xox prefix
        "SOUNDCHECK_ROUTER_JIRA_URL": f"{sandbox}/jira",
        "SOUNDCHECK_ROUTER_JIRA_USER": "soundcheck",
        "SOUNDCHECK_ROUTER_JIRA_TOKEN": "sandbox-token",
        "SOUNDCHECK_ROUTER_SMTP_HOST": s.host,
        "SOUNDCHECK_ROUTER_SMTP_PORT": s.sandbox_smtp_port,
    }


def router_environment(
    s: StackSettings, port: int, database: Path, instance: str, **more: object
) -> dict[str, str]:
    """A router child talking to this stack's sandbox, Prometheus and pipeline.

    A sandbox target the user set in the environment (`SOUNDCHECK_ROUTER_PAGERDUTY_URL=...`)
    is left to them: the child inherits it, so the same stack can page the real PagerDuty.
    """
    targets = {name: value for name, value in sandbox_targets(s).items() if name not in os.environ}
    values: dict[str, object] = {
        **targets,
        **telemetry_environment(s, service_name="router"),
        "SOUNDCHECK_ROUTER_HOST": s.host,
        "SOUNDCHECK_ROUTER_PORT": port,
        "SOUNDCHECK_ROUTER_DATABASE_URL": f"sqlite:///{database}",
        "SOUNDCHECK_ROUTER_PROMETHEUS_URL": f"http://{s.host}:{s.prometheus_port}",
        "SOUNDCHECK_ROUTER_ALERTMANAGER_URL": f"http://{s.host}:{s.alertmanager_port}",
        "SOUNDCHECK_ROUTER_ELASTICSEARCH_URL": f"http://{s.host}:{s.elasticsearch_port}",
        "SOUNDCHECK_ROUTER_INSTANCE": instance,
        **more,
    }
    return child_environment(ROUTER_READS, values)


class Router(Part):
    name = "router"

    def port_settings(self) -> dict[str, int]:
        return {"router_port": self.settings.router_port}

    def address(self) -> str:
        return f"http://{self.settings.host}:{self.settings.router_port}"

    def command(self) -> list[str]:
        return [sys.executable, "-m", "router"]

    def prepare(self) -> None:
        if OWN_TOKEN in os.environ:
            # The router would prefer it to the token file Alertmanager reads: every webhook 401.
            raise StartFailed(
                f"router cannot start: {OWN_TOKEN} is set, which would override the token file "
                f"Alertmanager reads. For the stack set {self.settings.env_name('router_token')} "
                "instead, and unset it."
            )
        ensure_router_token(self.dir / "token", self.settings)

    def environment(self) -> dict[str, str]:
        s = self.settings
        return router_environment(
            s,
            s.router_port,
            self.dir / "router.db",
            f"local:{s.router_port}",
            SOUNDCHECK_ROUTER_TOKEN_FILE=self.dir / "token",
            **(
                {}
                if CONSOLE_PASSWORD in os.environ
                else {CONSOLE_PASSWORD: console_password(self.dir)}
            ),
        )

    def probe(self) -> str:
        expect_http_ok(f"{self.address()}/readyz", timeout=2.0)
        return "router"
