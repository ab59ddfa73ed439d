"""HAProxy (Debian's `haproxy`) in front of every booking instance the stack runs.

Clients that want the whole service, however many instances, use its address; each instance
stays reachable on its own port too. HAProxy checks each instance's /health and sends requests
only to those that answer.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from pathlib import Path

from soundcheck.stack.part import TEMPLATES, Part, expect_http_ok, find_binary
from soundcheck.stack.parts.booking import booking_parts


def haproxy_config(bind: str, servers: Iterable[tuple[str, str]]) -> str:
    """HAProxy's config: listen on `bind` (`host:port`, or `unix@path`), balance over
    `servers` (name, host:port), each checked on GET /health."""
    template = string.Template((TEMPLATES / "haproxy" / "haproxy.cfg").read_text())
    lines = "\n".join(f"    server {name} {address} check" for name, address in servers)
    return template.substitute(bind=bind, servers=lines)


class Balancer(Part):
    name = "balancer"

    def port_settings(self) -> dict[str, int]:
        return {"balancer_port": self.settings.balancer_port}

    def address(self) -> str:
        return f"http://{self.settings.host}:{self.settings.balancer_port}"

    def check_installed(self) -> None:
        find_binary("haproxy", "haproxy", self.name)

    @property
    def config_path(self) -> Path:
        return self.dir / "haproxy.cfg"

    def prepare(self) -> None:
        s = self.settings
        instances = [(b.name, f"{s.host}:{b.port}") for b in booking_parts(s)]
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(haproxy_config(f"{s.host}:{s.balancer_port}", instances))

    def command(self) -> list[str]:
        # -db: stay in the foreground, as every part does; -W is not needed without reloads.
        return [find_binary("haproxy", "haproxy", self.name), "-db", "-f", str(self.config_path)]

    def probe(self) -> str:
        expect_http_ok(f"{self.address()}/health", timeout=2.0)
        return "haproxy"
