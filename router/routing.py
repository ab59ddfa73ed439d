"""The routing table: which priority goes to which targets, read from YAML and checked at start.

A priority comes from the `priority` label (P0 to P3), else from `severity` through the table's
mapping, else the default. Secrets (PagerDuty routing keys) are named here and read from the
environment, so the table can be committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from router.settings import RouterSettings

Priority = Literal["P0", "P1", "P2", "P3"]
PRIORITIES: tuple[Priority, ...] = ("P0", "P1", "P2", "P3")
TARGETS = ("pagerduty", "slack", "jira", "email")
# Targets told once per Alertmanager notification, in one message listing its alerts (as
# Alertmanager's own e-mail receiver does); the others get one message per alert.
PER_NOTIFICATION_TARGETS = ("email",)


class RoutingError(Exception):
    """The routing table cannot be used; the message says where and what to change."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PagerDutyRoute(Strict):
    service: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    severity: Literal["critical", "error", "warning", "info"] = "critical"
    dedup: Literal["alert", "group"] = "alert"


class SlackRoute(Strict):
    channel: str = Field(pattern=r"^[#@]?[a-z0-9][a-z0-9._-]{0,79}$|^[CGD][A-Z0-9]{2,}$")


class JiraRoute(Strict):
    project: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,9}$")
    issue_type: str = "Bug"
    priority: str = "High"
    resolve_transition: str = "Done"
    reopen_transition: str = "Reopen"
    reopen_window_seconds: float = Field(86400.0, ge=0)


class EmailRoute(Strict):
    to: list[str] = Field(min_length=1)

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or any(c in address for c in "\r\n<>,; "):
                raise ValueError(f"{address!r} is not a single e-mail address")
        return value


class PriorityRoute(Strict):
    pagerduty: PagerDutyRoute | None = None
    slack: SlackRoute | None = None
    jira: JiraRoute | None = None
    email: EmailRoute | None = None

    def targets(self) -> dict[str, Strict]:
        return {name: getattr(self, name) for name in TARGETS if getattr(self, name) is not None}


class RoutingTable(Strict):
    severity_to_priority: dict[str, Priority] = Field(default_factory=dict)
    default_priority: Priority = "P3"
    priorities: dict[Priority, PriorityRoute]

    def priority_of(self, labels: dict[str, str]) -> Priority:
        label = labels.get("priority", "").upper()
        if label in PRIORITIES:
            return label
        severity = labels.get("severity", "").lower()
        return self.severity_to_priority.get(severity, self.default_priority)

    def route(self, priority: Priority) -> PriorityRoute:
        return self.priorities.get(priority) or PriorityRoute()


def load_routing_table(path: Path, settings: RouterSettings) -> RoutingTable:
    """Read and check the table; every problem is reported with its place in the file."""
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise RoutingError(
            f"The routing table {path} does not exist; set SOUNDCHECK_ROUTER_ROUTING_FILE."
        ) from None
    except yaml.YAMLError as error:
        raise RoutingError(f"The routing table {path} is not valid YAML: {error}") from None
    try:
        table = RoutingTable.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors()
        )
        raise RoutingError(f"The routing table {path} is invalid: {problems}") from None
    missing = sorted(
        {
            f"SOUNDCHECK_ROUTER_PAGERDUTY_KEY_{r.pagerduty.service.upper().replace('-', '_')}"
            for r in table.priorities.values()
            if r.pagerduty and not settings.secret_from_env(f"pagerduty_key_{r.pagerduty.service}")
        }
    )
    if missing:
        raise RoutingError(
            f"The routing table {path} pages PagerDuty services whose routing keys are not set: "
            f"set {', '.join(missing)} in the router's environment."
        )
    return table
