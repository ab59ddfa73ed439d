"""The router's settings, read from `SOUNDCHECK_ROUTER_*` environment variables.

Addresses and secrets only; who gets paged for what is the routing table (YAML), not code.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "SOUNDCHECK_ROUTER_"
# What one alert in a webhook may weigh (labels, annotations, URLs): real ones weigh under 1 KB,
# one with a hostile 100 KB label still fits.
ALERT_BYTES_ALLOWANCE = 160 * 1024


class RouterSettings(BaseSettings):
    """Every field is an environment variable: `token_file` is `SOUNDCHECK_ROUTER_TOKEN_FILE`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = Field("", description="how people reach the router (runbook links)")
    instance: str = Field("", description="this process's name in delivery leases")

    token: SecretStr | None = Field(None, description="bearer token Alertmanager presents")
    token_file: Path | None = Field(None, description="file holding the bearer token")
    basic_user: str | None = None
    basic_password: SecretStr | None = None

    database_url: str = f"sqlite:///{REPO_ROOT / '.soundcheck' / 'router' / 'router.db'}"
    routing_file: Path = REPO_ROOT / "router" / "routing.yml"
    runbooks_dir: Path = REPO_ROOT / "runbooks"
    # Alertmanager sends at most `max_alerts` (100, alert_rules/alertmanager.yml) alerts per
    # webhook, and drops a notification answered 4xx: the limit holds that many alerts (and the
    # common labels beside them) of up to ALERT_BYTES_ALLOWANCE each, far above real alerts.
    max_body_bytes: int = 16 * 1024 * 1024
    watchdog_receiver: str = Field(
        "watchdog", description="webhooks for this receiver are heartbeats: recorded, not sent"
    )

    pagerduty_url: str = "https://events.pagerduty.com"
    slack_url: str = "https://slack.com/api/"
    slack_token: SecretStr | None = None
    jira_url: str = "https://jira.example.com"
    jira_user: str = ""
    jira_token: SecretStr | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "soundcheck-router@localhost"
    smtp_user: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False

    prometheus_url: str = "http://127.0.0.1:9090"
    grafana_url: str = "http://127.0.0.1:3000"
    kibana_url: str = "http://127.0.0.1:5601"
    kibana_index_pattern: str = "logs-*"

    worker_threads: int = 4
    worker_process: bool = Field(
        True, description="deliver from a child process, so webhooks never wait for the GIL"
    )
    worker_nice: int = Field(10, ge=0, le=19, description="how much lower its CPU priority is")
    poll_interval_seconds: float = 0.2
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    dead_letter_after_seconds: float = 6 * 3600.0
    lease_seconds: float = 120.0
    target_timeout_seconds: float = 10.0
    graphs: bool = True

    def bearer_token(self) -> str | None:
        """The expected token: the variable wins over the file; None means no bearer auth."""
        if self.token is not None:
            return self.token.get_secret_value()
        if self.token_file is not None and self.token_file.exists():
            return self.token_file.read_text().strip() or None
        return None

    def own_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def instance_name(self) -> str:
        return self.instance or f"{socket.gethostname()}:{self.port}"

    def secret_from_env(self, name: str) -> str | None:
        """A secret the routing table names: PagerDuty `booking` is ..._PAGERDUTY_KEY_BOOKING."""
        return os.environ.get(ENV_PREFIX + name.upper().replace("-", "_"))


@cache
def load_settings() -> RouterSettings:
    return RouterSettings()
