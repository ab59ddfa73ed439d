"""PagerDuty Events API v2 through the `pagerduty` package (pdpyras's maintained successor).

Trigger and resolve share a dedup key (per alert, or per Alertmanager group), so PagerDuty itself
folds repeats into one incident; the client's own sleeping retries are switched off because the
router's worker retries with backoff and honours Retry-After.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx2
from pagerduty import EventsApiV2Client
from pagerduty.errors import Error as PagerDutyError
from pagerduty.errors import HttpError

from router.notifiers.base import status_word
from router.outcome import Delivered, GiveUp, Job, Outcome, RetryLater, retry_after_seconds
from router.settings import RouterSettings
from router.text import one_line, truncate

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SUMMARY_LIMIT = 1024
DEDUP_LIMIT = 255


class RateLimited(Exception):
    def __init__(self, response: httpx2.Response) -> None:
        super().__init__("PagerDuty answered 429")
        self.response = response


class EventsClient(EventsApiV2Client):
    """The package's client, with 429 raised to us instead of slept on inside the call."""

    @property
    def url(self) -> str:
        return str(self._url)

    @url.setter
    def url(self, new_base_url: str) -> None:
        """HTTPS, as the package insists, except on loopback where the sandbox listens."""
        host = urlsplit(new_base_url).hostname or ""
        if not new_base_url.startswith("https://") and host not in LOOPBACK:
            raise ValueError(f"the PagerDuty URL must use https:// (got {new_base_url})")
        self._url = new_base_url

    def postprocess(self, response: httpx2.Response) -> None:
        if response.status_code == 429:
            raise RateLimited(response)


def dedup_key(job: Job) -> str:
    return truncate(f"soundcheck-{job.identity}", DEDUP_LIMIT)


class PagerDutyNotifier:
    target = "pagerduty"

    def __init__(self, settings: RouterSettings) -> None:
        self.settings = settings
        self.clients: dict[str, EventsClient] = {}  # one connection pool per service

    def client(self, service: str) -> EventsClient:
        if service not in self.clients:
            self.clients[service] = self._new_client(service)
        return self.clients[service]

    def _new_client(self, service: str) -> EventsClient:
        key = self.settings.secret_from_env(f"pagerduty_key_{service}") or ""
        client = EventsClient(key, base_url=self.settings.pagerduty_url.rstrip("/"))
        client.retry = {}
        client.max_network_attempts = 0
        client.timeout = int(self.settings.target_timeout_seconds)
        return client

    def event(self, job: Job) -> dict[str, Any]:
        labels = job.labels
        summary = f"[{job.priority}] {status_word(job)} {job.alertname}: {job.summary}"
        return {
            "summary": truncate(one_line(summary), SUMMARY_LIMIT),
            "source": truncate(
                labels.get("instance") or labels.get("service") or "soundcheck", 255
            ),
            "severity": job.route.get("severity", "critical"),
            "payload": {
                "component": labels.get("service", ""),
                "group": labels.get("alertname", ""),
                "class": job.priority,
                "timestamp": str(job.alert.get("startsAt", "")),
            },
            "custom_details": {
                "labels": labels,
                "annotations": job.annotations,
                "priority": job.priority,
                "group_key": job.group_key,
            },
            "links": [{"href": href, "text": name} for name, href in job.links.items()],
        }

    def deliver(self, job: Job) -> Outcome:
        client = self.client(job.route["service"])
        key = dedup_key(job)
        try:
            if job.firing:
                event = self.event(job)
                client.trigger(
                    event["summary"],
                    event["source"],
                    dedup_key=key,
                    severity=event["severity"],
                    payload=event["payload"],
                    custom_details=event["custom_details"],
                    links=event["links"],
                )
            else:
                client.resolve(key)
        except RateLimited as limited:
            return RetryLater(
                "PagerDuty rate limit (429)",
                retry_after_seconds(limited.response.headers.get("Retry-After")),
            )
        except HttpError as error:
            if error.response is None:
                return RetryLater(f"PagerDuty failed: {error}")
            status = error.response.status_code
            if status >= 500:
                return RetryLater(f"PagerDuty answered {status}")
            return GiveUp(f"PagerDuty refused the event ({status}): {error.response.text[:300]}")
        except (PagerDutyError, httpx2.HTTPError) as error:
            return RetryLater(f"PagerDuty unreachable: {error}")
        return Delivered({"dedup_key": key})
