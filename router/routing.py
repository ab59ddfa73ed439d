"""The routing table: which priority goes to which targets, read from YAML and checked at start.

A priority comes from the `priority` label (P0 to P3), else from `severity` through the table's
mapping, else the default. Secrets (PagerDuty routing keys) are named here and read from the
environment, so the table can be committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import Field, ValidationError, create_model

from router.settings import RouterSettings
from router.targets import TARGETS, Route, Strict

Priority = Literal["P0", "P1", "P2", "P3"]
PRIORITIES: tuple[Priority, ...] = ("P0", "P1", "P2", "P3")


class RoutingError(Exception):
    """The routing table cannot be used; the message says where and what to change."""


class PriorityRouteBase(Strict):
    def targets(self) -> dict[str, Route]:
        return {name: getattr(self, name) for name in TARGETS if getattr(self, name) is not None}

    def missing_settings(self, settings: RouterSettings) -> list[str]:
        return [
            name for route in self.targets().values() for name in route.missing_settings(settings)
        ]


# One optional field per registered target, so the table's errors name their place in the file
# (`priorities.P0.pagerduty.service`); to the type checker it is the base class.
if TYPE_CHECKING:
    PriorityRoute = PriorityRouteBase
else:
    PriorityRoute = create_model(
        "PriorityRoute",
        __base__=PriorityRouteBase,
        **{name: (target.route | None, None) for name, target in TARGETS.items()},
    )


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

    def missing_settings(self, settings: RouterSettings) -> list[str]:
        """The environment variables the table's routes need that are not set."""
        return sorted(
            {name for r in self.priorities.values() for name in r.missing_settings(settings)}
        )

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
    missing = table.missing_settings(settings)
    if missing:
        raise RoutingError(
            f"The routing table {path} names secrets that are not set: "
            f"set {', '.join(missing)} in the router's environment."
        )
    return table
