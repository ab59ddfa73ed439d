"""What a notifier says after one attempt: delivered, retry later (when), or give up (why).

The notifier decides whether a failure is worth retrying; the worker decides when and how often.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Delivered:
    ref: dict[str, Any] | None = None  # what the target gave back, kept for later actions
    note: str = ""


@dataclass(frozen=True)
class RetryLater:
    why: str
    after_seconds: float | None = None  # the target's Retry-After, when it gave one


@dataclass(frozen=True)
class GiveUp:
    why: str


Outcome = Delivered | RetryLater | GiveUp


class AlertText:
    """What an alert says, read from its Alertmanager object (`alert`)."""

    alert: dict[str, Any]

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.alert.get("labels", {}))

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.alert.get("annotations", {}))

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "unnamed")


@dataclass(frozen=True)
class Job(AlertText):
    """Everything one attempt needs; the notifier never reads the store itself."""

    action: str  # trigger | resolve
    alert: dict[str, Any]  # the Alertmanager alert object
    priority: str
    group_key: str
    external_url: str
    route: dict[str, Any]
    identity: str
    delivery_key: str
    ref: dict[str, Any] | None
    interrupted: bool  # an earlier attempt may have reached the target before a crash
    links: dict[str, str] = field(default_factory=dict)
    # Alerts of the group that Alertmanager left out of the notification (its max_alerts).
    truncated_alerts: int = 0
    # For a message per notification (e-mail): every alert it lists, this one first.
    notification_alerts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.alertname

    @property
    def firing(self) -> bool:
        return self.action == "trigger"

    @property
    def more_alerts_note(self) -> str:
        """What a message says about the alerts it does not carry: "and 30 more", or nothing."""
        if self.truncated_alerts <= 0:
            return ""
        return f"…and {self.truncated_alerts} more alerts in this group (not sent by Alertmanager)"


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (HTTP dates are rare from these APIs and read as None)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
