"""The drill's observer: one thread asks Prometheus (ALERTS), Alertmanager (/api/v2/alerts) and
the sandbox (PagerDuty events, Slack posts) every half second and keeps, per alert, the first
time it was pending, firing, active in Alertmanager, paged and posted, and when it resolved."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import httpx

from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings

POLL_SECONDS = 0.5
IGNORED = {"Watchdog"}  # always firing by design: proves the alerting path works
PAGE_ALERT = re.compile(r"^\[P\d\] \w+ ([A-Za-z0-9_]+)")


def page_alertname(event: dict[str, Any]) -> str | None:
    summary = ((event.get("body") or {}).get("payload") or {}).get("summary", "")
    found = PAGE_ALERT.match(str(summary))
    return found.group(1) if found else None


class Observer(threading.Thread):
    """Watches alerts and notifications from `began` (epoch) on; `timeline()` is a snapshot."""

    def __init__(
        self,
        settings: StackSettings,
        sandbox: SandboxClient,
        began: float,
        every: float = POLL_SECONDS,
    ) -> None:
        super().__init__(name="drill-observer", daemon=True)
        self.began = began
        self.every = every
        self.sandbox = sandbox
        self.prometheus = httpx.Client(
            base_url=f"http://{settings.host}:{settings.prometheus_port}", timeout=5
        )
        self.alertmanager = httpx.Client(
            base_url=f"http://{settings.host}:{settings.alertmanager_port}", timeout=5
        )
        self.alerts: dict[str, dict[str, Any]] = {}
        self.pages: list[dict[str, Any]] = []
        self.slack: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.first_answer = True  # what Prometheus says first was there before the drill
        self.lock = threading.Lock()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.poll_once()
            self.done.wait(self.every)

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=10)
        self.poll_once()  # the last word: pages that arrived while stopping
        self.prometheus.close()
        self.alertmanager.close()

    def poll_once(self) -> None:
        now = time.time()
        for source, ask in (
            ("prometheus", self._prometheus),
            ("alertmanager", self._alertmanager),
            ("sandbox", self._sandbox),
        ):
            try:
                ask(now)
            except (httpx.HTTPError, ValueError, KeyError) as error:
                if len(self.errors) < 20:
                    self.errors.append(f"{source} at {now:.1f}: {error}")

    def _entry(self, name: str) -> dict[str, Any]:
        return self.alerts.setdefault(
            name,
            {
                "priority": None,
                "pending": None,
                "firing": None,
                "alertmanager": None,
                "resolved": None,
                "alertmanager_resolved": None,
                "paged": None,
                "page_resolved": None,
                "slack": None,
                "before_the_drill": False,
            },
        )

    def _prometheus(self, now: float) -> None:
        answer = self.prometheus.get("/api/v1/query", params={"query": "ALERTS"})
        seen: dict[str, str] = {}
        priorities: dict[str, str] = {}
        for result in answer.json()["data"]["result"]:
            metric = result["metric"]
            name = metric["alertname"]
            if name in IGNORED:
                continue
            state = metric["alertstate"]
            if seen.get(name) != "firing":
                seen[name] = state
            priorities[name] = metric.get("priority", "")
        with self.lock:
            for name, state in seen.items():
                entry = self._entry(name)
                entry["priority"] = priorities[name]
                if entry["pending"] is None and entry["firing"] is None:
                    entry["before_the_drill"] = self.first_answer
                if entry["pending"] is None:
                    entry["pending"] = now
                if state == "firing" and entry["firing"] is None:
                    entry["firing"] = now
                entry["resolved"] = None
            for name, entry in self.alerts.items():
                if name not in seen and entry["pending"] is not None and entry["resolved"] is None:
                    entry["resolved"] = now
            self.first_answer = False

    def _alertmanager(self, now: float) -> None:
        active = {
            a["labels"]["alertname"]
            for a in self.alertmanager.get("/api/v2/alerts").json()
            if a.get("status", {}).get("state") in ("active", "suppressed")
        } - IGNORED
        with self.lock:
            for name in active:
                entry = self._entry(name)
                entry["alertmanager"] = entry["alertmanager"] or now
                entry["alertmanager_resolved"] = None
            for name, entry in self.alerts.items():
                if (
                    name not in active
                    and entry["alertmanager"]
                    and not entry["alertmanager_resolved"]
                ):
                    entry["alertmanager_resolved"] = now

    def _sandbox(self, now: float) -> None:
        events = [e for e in self.sandbox.received("pagerduty") if e["at"] >= self.began]
        events.sort(key=lambda e: e["at"])
        keys: dict[str, str] = {}
        pages = []
        for event in events:
            key = str(event.get("dedup_key") or (event.get("body") or {}).get("dedup_key"))
            name = page_alertname(event) or keys.get(key)
            if event["kind"] == "trigger" and name:
                keys[key] = name
            if event["kind"] in ("trigger", "resolve") and name:
                links = (event.get("body") or {}).get("links") or []
                pages.append(
                    {
                        "alertname": name,
                        "kind": event["kind"],
                        "at": event["at"],
                        "key": key,
                        "links": {str(k.get("text")): str(k.get("href")) for k in links[:10]},
                    }
                )
        posts = [
            e
            for e in self.sandbox.received("slack")
            if e["at"] >= self.began and e["kind"] == "chat.postMessage"
        ]
        with self.lock:
            self.pages = pages
            self.slack = [{"at": p["at"], "text": json.dumps(p["body"])[:2000]} for p in posts]
            for page in pages:
                entry = self._entry(page["alertname"])
                field = "paged" if page["kind"] == "trigger" else "page_resolved"
                if entry[field] is None or (field == "page_resolved" and page["at"] > entry[field]):
                    entry[field] = page["at"]
            for name, entry in self.alerts.items():
                posted = [p["at"] for p in self.slack if name in p["text"]]
                entry["slack"] = min(posted) if posted else None

    def seen(self, alert: str, stage: str) -> float | None:
        """When `alert` first reached `stage` (pending, firing, alertmanager, paged, ...)."""
        with self.lock:
            at = self.alerts.get(alert, {}).get(stage)
        return None if at is None else float(at)

    def timeline(self) -> dict[str, Any]:
        with self.lock:
            return {
                "alerts": {name: dict(entry) for name, entry in self.alerts.items()},
                "pages": list(self.pages),
                "slack_posts": len(self.slack),
                "observer_errors": list(self.errors),
            }
