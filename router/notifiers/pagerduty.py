"""PagerDuty Events API v2 through the `pagerduty` package (pdpyras's maintained successor).

Trigger and resolve share a dedup key (per alert, or per Alertmanager group), so PagerDuty itself
folds repeats into one incident; the client's own sleeping retries are switched off because the
router's worker retries with backoff and honours Retry-After.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx2
from pagerduty import EventsApiV2Client, RestApiV2Client
from pagerduty.errors import Error as PagerDutyError
from pagerduty.errors import HttpError

from router.notifiers.base import status_word
from router.outcome import Delivered, GiveUp, Job, Outcome, RetryLater, retry_after_seconds
from router.settings import RouterSettings
from router.text import bounded_values, one_line, truncate

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SUMMARY_LIMIT = 1024
DEDUP_LIMIT = 255
FIELD_LIMIT = 1024  # source, component, group: short by nature; kept short whatever the labels
# PagerDuty refuses an event above 512 KB (Events API v2) with a 400, and the page is lost. The
# details get what is left after the summary, the links (URL_LIMIT each) and the envelope.
EVENT_BYTES_LIMIT = 512 * 1024
DETAILS_BYTES_BUDGET = 400 * 1024
# Each label and annotation value is cut to the first of these that makes the details fit.
DETAIL_VALUE_LIMITS = (8192, 2048, 512, 128)


class RateLimited(Exception):
    def __init__(self, response: httpx2.Response) -> None:
        super().__init__("PagerDuty answered 429")
        self.response = response


class LoopbackHttpAllowed:
    """A base URL over HTTPS, as the package insists, except on loopback where the sandbox
    listens (a mixin before the package's client class)."""

    _url: str | None

    @property
    def url(self) -> str:
        return str(self._url)

    @url.setter
    def url(self, new_base_url: str) -> None:
        host = urlsplit(new_base_url).hostname or ""
        if not new_base_url.startswith("https://") and host not in LOOPBACK:
            raise ValueError(f"the PagerDuty URL must use https:// (got {new_base_url})")
        self._url = new_base_url


class IncidentsClient(LoopbackHttpAllowed, RestApiV2Client):
    """The package's REST API v2 client (router.landing_links asks it for incidents)."""


class EventsClient(LoopbackHttpAllowed, EventsApiV2Client):
    """The package's client, with 429 raised to us instead of slept on inside the call."""

    def postprocess(self, response: httpx2.Response) -> None:
        if response.status_code == 429:
            raise RateLimited(response)


def dedup_key(job: Job) -> str:
    return truncate(f"soundcheck-{job.identity}", DEDUP_LIMIT)


def json_bytes(value: Any) -> int:
    return len(json.dumps(value).encode())


def bounded_details(job: Job) -> dict[str, Any]:
    """Labels and annotations as custom details, cut until they fit DETAILS_BYTES_BUDGET;
    at worst left out with a note (the links still lead to everything)."""
    for limit in DETAIL_VALUE_LIMITS:
        details = {
            "labels": bounded_values(_bounded_names(job.labels, limit), limit),
            "annotations": bounded_values(_bounded_names(job.annotations, limit), limit),
            "priority": job.priority,
            "group_key": truncate(job.group_key, limit),
        }
        if job.more_alerts_note:
            details["more_alerts"] = job.more_alerts_note
        if json_bytes(details) <= DETAILS_BYTES_BUDGET:
            return details
    return {
        "priority": job.priority,
        "note": "The alert's labels and annotations are too large for PagerDuty; see the links.",
    }


def _bounded_names(values: dict[str, str], limit: int) -> dict[str, str]:
    return {truncate(name, limit): value for name, value in values.items()}


def page_summary(job: Job) -> str:
    """One line of at most 1024 characters; "and N more" survives the cut."""
    more = f" (and {job.truncated_alerts} more)" if job.truncated_alerts > 0 else ""
    summary = one_line(f"[{job.priority}] {status_word(job)} {job.alertname}: {job.summary}")
    return truncate(summary, SUMMARY_LIMIT - len(more)) + more


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
        return {
            "summary": page_summary(job),
            "source": truncate(
                labels.get("instance") or labels.get("service") or "soundcheck", 255
            ),
            "severity": job.route.get("severity", "critical"),
            "payload": {
                "component": truncate(labels.get("service", ""), FIELD_LIMIT),
                "group": truncate(labels.get("alertname", ""), FIELD_LIMIT),
                "class": job.priority,
                "timestamp": str(job.alert.get("startsAt", "")),
            },
            "custom_details": bounded_details(job),
            # the links are validated and at most URL_LIMIT long (router.links)
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
            elif job.action == "acknowledge":  # from the incident page (router.incident_actions)
                client.acknowledge(key)
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
