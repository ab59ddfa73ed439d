"""The registry of delivery targets: each one's route shape in `routing.yml`, the route field that
names where its messages go, and where its notifier class lives.

Routing, ingest, the worker, `/readyz` and the sandbox read `TARGETS`; adding a target is its
notifier module and one line here. Notifiers are named by dotted path, not imported: their client
libraries (jira, slack_sdk, pagerduty, httpx) load only in the process that delivers.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from router.notifiers.base import Notifier
    from router.settings import RouterSettings


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Route(Strict):
    """One target's entry under a priority in the routing table."""

    def missing_settings(self, settings: RouterSettings) -> list[str]:
        """The environment variables this route needs that are not set."""
        return []


class PagerDutyRoute(Route):
    service: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    severity: Literal["critical", "error", "warning", "info"] = "critical"
    dedup: Literal["alert", "group"] = "alert"

    def missing_settings(self, settings: RouterSettings) -> list[str]:
        """The service's routing key is a secret, so it is named here and set in the
        environment: PagerDuty `booking` reads SOUNDCHECK_ROUTER_PAGERDUTY_KEY_BOOKING."""
        if settings.secret_from_env(f"pagerduty_key_{self.service}"):
            return []
        return [f"SOUNDCHECK_ROUTER_PAGERDUTY_KEY_{self.service.upper().replace('-', '_')}"]


class SlackRoute(Route):
    channel: str = Field(pattern=r"^[#@]?[a-z0-9][a-z0-9._-]{0,79}$|^[CGD][A-Z0-9]{2,}$")


class JiraRoute(Route):
    project: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,9}$")
    issue_type: str = "Bug"
    priority: str = "High"
    resolve_transition: str = "Done"
    reopen_transition: str = "Reopen"
    reopen_window_seconds: float = Field(86400.0, ge=0)


class EmailRoute(Route):
    to: list[str] = Field(min_length=1)

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or any(c in address for c in "\r\n<>,; "):
                raise ValueError(f"{address!r} is not a single e-mail address")
        return value


@dataclass(frozen=True)
class Target:
    name: str
    route: type[Route]
    destination_field: str  # the route field naming where a message goes (one Slack thread each)
    notifier: str  # "module:Class"; the class is built with the router's settings
    # Told once per Alertmanager notification, in one message listing its alerts (as
    # Alertmanager's own e-mail receiver does), instead of once per alert.
    per_notification: bool = False


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target(
            "pagerduty", PagerDutyRoute, "service", "router.notifiers.pagerduty:PagerDutyNotifier"
        ),
        Target("slack", SlackRoute, "channel", "router.notifiers.slack:SlackNotifier"),
        Target("jira", JiraRoute, "project", "router.notifiers.jira:JiraNotifier"),
        Target("email", EmailRoute, "to", "router.notifiers.email:EmailNotifier", True),
    )
}
PER_NOTIFICATION_TARGETS = tuple(name for name, t in TARGETS.items() if t.per_notification)


def destination_of(target: str, route: Mapping[str, object]) -> str:
    """The part of a route that names where a message goes (one Slack thread per channel...)."""
    value = route[TARGETS[target].destination_field]
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def build_notifiers(settings: RouterSettings) -> dict[str, Notifier]:
    """One notifier per target, each module imported here: call it only where deliveries go."""
    notifiers: dict[str, Notifier] = {}
    for name, target in TARGETS.items():
        module_name, class_name = target.notifier.split(":")
        notifier_class = getattr(importlib.import_module(module_name), class_name)
        notifiers[name] = notifier_class(settings)
    return notifiers
