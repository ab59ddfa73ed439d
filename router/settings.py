"""The router's settings, read from `SOUNDCHECK_ROUTER_*` environment variables.

Addresses and secrets only; who gets paged for what is the routing table (YAML), not code.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from instrumentation.settings_contract import StrictSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "SOUNDCHECK_ROUTER_"
# What one alert in a webhook may weigh (labels, annotations, URLs): real ones weigh under 1 KB,
# one with a hostile 100 KB label still fits.
ALERT_BYTES_ALLOWANCE = 160 * 1024
# The routing table names PagerDuty services; service `booking` takes its routing key from
# SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING.
PAGERDUTY_KEY_PREFIX = "PAGERDUTY_KEY_"


class PagerDutyKeys(PydanticBaseSettingsSource):
    """`pagerduty_keys` from every SOUNDCHECK_ROUTER_PAGERDUTY_KEY_<SERVICE> variable."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        start = ENV_PREFIX + PAGERDUTY_KEY_PREFIX
        keys = {
            name.upper().removeprefix(start): value
            for name, value in os.environ.items()
            if name.upper().startswith(start)
        }
        return {"pagerduty_keys": keys} if keys else {}


class RouterSettings(StrictSettings):
    """The alert router: addresses, credentials and delivery timings (`python -m router`)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)
    dynamic_env_prefixes: ClassVar[tuple[str, ...]] = (PAGERDUTY_KEY_PREFIX,)

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
    pagerduty_api_url: str = Field(
        "https://api.pagerduty.com", description="REST API v2: each incident's html_url"
    )
    pagerduty_api_token: SecretStr | None = Field(
        None,
        description="a (read-only) REST API key: incident timelines link each PagerDuty "
        "incident; unset, they name it",
    )
    slack_url: str = "https://slack.com/api/"
    slack_token: SecretStr | None = None
    slack_workspace_url: str = Field(
        "",
        description="e.g. https://acme.slack.com: incident timelines link each Slack message "
        "when chat.getPermalink cannot answer",
    )
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
    alertmanager_url: str = Field(
        "http://127.0.0.1:9093", description="Alertmanager's API (silences from incident pages)"
    )
    elasticsearch_url: str = Field(
        "http://127.0.0.1:9200", description="the incident page's evidence and the /logs page"
    )
    # Links to outside tools only when they are there: empty means every link points at the
    # router's own pages (/incidents, /logs, /dashboards).
    grafana_url: str = ""
    kibana_url: str = ""
    alertmanager_ui_url: str = Field("", description="an Alertmanager with its web UI, if any")
    kibana_index_pattern: str = "logs-*"

    console_user: str = Field("oncall", description="who may act from the incident pages")
    console_password: SecretStr | None = Field(
        None, description="the console's password; unset, the pages are read-only"
    )
    console_session_hours: float = Field(12.0, gt=0, le=24 * 14)

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
    pagerduty_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="routing key per PagerDuty service the routing table names, each from "
        "SOUNDCHECK_ROUTER_PAGERDUTY_KEY_<SERVICE>",
    )
    wake_fd: int | None = Field(
        None, description="set by the router for its delivery process: the pipe that wakes it"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            PagerDutyKeys(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

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
        """A secret the routing table names: `pagerduty_key_booking` is the key read from
        SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING."""
        wanted = name.upper().replace("-", "_").removeprefix(PAGERDUTY_KEY_PREFIX)
        key = self.pagerduty_keys.get(wanted)
        return key.get_secret_value() if key is not None else None


@cache
def load_settings() -> RouterSettings:
    return RouterSettings()
