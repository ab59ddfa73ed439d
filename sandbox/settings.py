"""The sandbox's settings, read from `SOUNDCHECK_SANDBOX_*` (the stack part sets them)."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from instrumentation.settings_contract import StrictSettings


class SandboxSettings(StrictSettings):
    """The sandbox (`python -m sandbox`): PagerDuty / Slack / Jira stand-ins and an SMTP sink."""

    model_config = SettingsConfigDict(env_prefix="SOUNDCHECK_SANDBOX_")

    host: str = "127.0.0.1"
    port: int = Field(8099, description="the HTTP stand-ins")
    smtp_port: int = Field(2525, description="the SMTP sink")
    keep: int = Field(
        20000,
        gt=0,
        description="newest entries kept per target: a demo left running, or a benchmark, "
        "must not grow the sandbox without bound",
    )


@cache
def load_settings() -> SandboxSettings:
    return SandboxSettings()
