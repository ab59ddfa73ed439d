"""Prometheus and Alertmanager from the Debian packages, configured from our templates."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from alert_rules.catalog import localized_links
from soundcheck import REPO_ROOT
from soundcheck.settings import StackSettings
from soundcheck.stack.part import TEMPLATES, NotReady, Part, find_binary
from soundcheck.stack.parts.booking import booking_parts

ALERT_RULES = REPO_ROOT / "alert_rules"
RULE_FILES = ("*.rules.yml", "slo/*.rules.yml")
# The router's own settings, which the stack passes on to it: the rules' links follow them.
ROUTER_PUBLIC_URL = "SOUNDCHECK_ROUTER_PUBLIC_URL"
ROUTER_GRAFANA_URL = "SOUNDCHECK_ROUTER_GRAFANA_URL"


def render_rules(destination: Path, router_url: str, grafana_url: str = "") -> Path:
    """The rule files with their runbook links on this stack's router (a port offset or another
    host moves it) and their dashboard links on its Grafana, or on the router's dashboards
    without one; the files in alert_rules/ stay as production reads them."""
    shutil.rmtree(destination, ignore_errors=True)  # a rule file removed since goes too
    for pattern in RULE_FILES:
        for source in ALERT_RULES.glob(pattern):
            target = destination / source.relative_to(ALERT_RULES)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(localized_links(source.read_text(), router_url, grafana_url))
    return destination


def quoted(items: Iterable[str]) -> str:
    """A YAML flow list: `["a", "b"]`."""
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def http_probe(url: str, version_path: str, pick_version: Callable[[Any], object]) -> str:
    """GET `<url>/-/ready`, then read the version from `version_path` with `pick_version`."""
    try:
        ready = httpx.get(f"{url}/-/ready", timeout=1.0)
        if ready.status_code != 200:
            raise NotReady(f"{url}/-/ready answered {ready.status_code}")
        info = httpx.get(f"{url}{version_path}", timeout=1.0).json()
    except (httpx.HTTPError, ValueError) as error:
        raise NotReady(f"no answer from {url}: {error}") from error
    return str(pick_version(info))


class Prometheus(Part):
    name = "prometheus"
    # Started beside the others, it paged BookingServiceDown (a 10 s `for`) on every fresh
    # `soundcheck up` where gunicorn took longer than that to listen: a P0 for a service still
    # starting. Alertmanager may start before it: nothing reaches Alertmanager without it.
    starts_last = True

    def port_settings(self) -> dict[str, int]:
        return {"prometheus_port": self.settings.prometheus_port}

    def address(self) -> str:
        return f"http://{self.settings.host}:{self.settings.prometheus_port}"

    def check_installed(self) -> None:
        find_binary("prometheus", "prometheus", self.name)

    def prepare(self) -> None:
        s = self.settings
        # Every *_port setting is a template field, so a new scrape job needs no code here.
        ports = {name: value for name, value in s.model_dump().items() if name.endswith("_port")}
        instances = booking_parts(s)
        self.render(
            TEMPLATES / "prometheus" / "prometheus.yml",
            self.dir / "prometheus.yml",
            host=s.host,
            rules_dir=render_rules(
                self.dir / "rules",
                os.environ.get(ROUTER_PUBLIC_URL) or f"http://{s.host}:{s.router_port}",
                os.environ.get(ROUTER_GRAFANA_URL, ""),
            ),
            booking_targets_dir=self.booking_targets_dir,
            booking_metrics_targets=quoted(f"{s.host}:{b.metrics_port}" for b in instances),
            booking_health_targets=quoted(f"{b.address()}/health" for b in instances),
            **ports,
        )

    @property
    def booking_targets_dir(self) -> Path:
        """Where file_sd target files of extra booking instances go (created, so it is watched)."""
        directory = self.dir / "booking_targets"
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def command(self) -> list[str]:
        return [
            find_binary("prometheus", "prometheus", self.name),
            f"--config.file={self.dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            f"--web.listen-address={self.settings.host}:{self.settings.prometheus_port}",
            f"--web.external-url={self.address()}",  # alerts' source links: this address
            "--web.enable-lifecycle",  # lets later steps reload rules without a restart
            "--storage.tsdb.retention.time=15d",
        ]

    def probe(self) -> str:
        return http_probe(
            self.address(), "/api/v1/status/buildinfo", lambda info: info["data"]["version"]
        )


class Alertmanager(Part):
    name = "alertmanager"
    # Its first notifications (the Watchdog's) would otherwise reach a router still starting:
    # failed posts that keep AlertDeliveriesFailing (a 5-minute rate) firing on a fresh stack.
    starts_after = ("router",)

    def port_settings(self) -> dict[str, int]:
        return {"alertmanager_port": self.settings.alertmanager_port}

    def address(self) -> str:
        return f"http://{self.settings.host}:{self.settings.alertmanager_port}"

    def check_installed(self) -> None:
        find_binary("prometheus-alertmanager", "prometheus-alertmanager", self.name)

    @property
    def config_path(self) -> Path:
        return self.dir / "alertmanager.yml"

    def prepare(self) -> None:
        s = self.settings
        self.render(
            ALERT_RULES / "alertmanager.yml",
            self.config_path,
            router_url=f"http://{s.host}:{s.router_port}/alerts",
            router_token_file=ensure_router_token(self.settings.home / "router" / "token", s),
        )
        # Alertmanager remembers what it notified (nflog) across restarts: an alert whose resolve
        # never went out (the stack stopped mid-incident) then counts as notified and firing,
        # and the next fault of the same alert pages nobody until repeat_interval (30 min for
        # P0). The router is the exactly-once layer (an alert episode is stored once, by its
        # startsAt), so a resend after a restart costs nothing; silences are kept.
        (self.dir / "data" / "nflog").unlink(missing_ok=True)

    def command(self) -> list[str]:
        return [
            find_binary("prometheus-alertmanager", "prometheus-alertmanager", self.name),
            f"--config.file={self.config_path}",
            f"--storage.path={self.dir / 'data'}",
            f"--web.listen-address={self.settings.host}:{self.settings.alertmanager_port}",
            f"--web.external-url={self.address()}",  # the router's silence links: this address
            "--cluster.listen-address=",  # a single local instance: no gossip port to collide
        ]

    def probe(self) -> str:
        return http_probe(
            self.address(), "/api/v2/status", lambda info: info["versionInfo"]["version"]
        )


def ensure_router_token(path: Path, settings: StackSettings) -> Path:
    """The router's bearer token as a file only we can read: from the environment, else made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wanted = settings.router_token.get_secret_value() if settings.router_token else None
    if wanted is None and path.exists():
        return path
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as token_file:
        token_file.write(wanted or secrets.token_urlsafe(32))
    return path
