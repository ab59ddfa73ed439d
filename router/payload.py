"""The Alertmanager webhook payload, version 4, as Alertmanager documents it.

Unknown fields are kept (Alertmanager adds fields over time); known ones are checked so that a bad
payload gets a 422 naming the field, not a crash later in a notifier.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["firing", "resolved"]
LabelSet = dict[str, str]
# The largest number an INTEGER column holds in every store the router supports (MariaDB INT is
# 32 bits): a larger one failed the insert, a 500 on SQLite and a 503 retried forever on MariaDB.
STORE_INTEGER_MAX = 2**31 - 1


class WebhookAlert(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Status
    labels: LabelSet = Field(max_length=200)
    annotations: LabelSet = Field(default_factory=dict, max_length=200)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = Field("", max_length=8192)
    fingerprint: str = Field("", max_length=64, pattern=r"^[0-9A-Za-z]*$")

    def identity(self) -> str:
        """Alertmanager's fingerprint, or a hash of the labels when an old sender omits it."""
        if self.fingerprint:
            return self.fingerprint
        canonical = "\x00".join(f"{k}\x01{v}" for k, v in sorted(self.labels.items()))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "unnamed")


class WebhookPayload(BaseModel):
    model_config = ConfigDict(extra="allow")

    version: Literal["4"]
    groupKey: str = Field(max_length=8192)
    truncatedAlerts: int = Field(0, ge=0, le=STORE_INTEGER_MAX)
    status: Status
    receiver: str = Field(max_length=1024)
    groupLabels: LabelSet = Field(default_factory=dict)
    commonLabels: LabelSet = Field(default_factory=dict)
    commonAnnotations: LabelSet = Field(default_factory=dict)
    externalURL: str = Field("", max_length=8192)
    alerts: list[WebhookAlert] = Field(min_length=1, max_length=10_000)
