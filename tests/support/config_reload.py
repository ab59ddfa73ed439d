"""Bringing a running Prometheus or Alertmanager onto the current templates, only if they moved.

The session stack may reuse a Prometheus or Alertmanager started before the rules or the
Alertmanager template changed, so tests re-render their files first and hot-reload (`/-/reload`)
only when that changed something. Never otherwise: a reload while an alert changes state can
lose that change (Prometheus drops the alerts it sends while its list of Alertmanagers is
rebuilt), and a resolve Alertmanager never sent makes it treat the alert's next episode as
already notified (CI's BookingServiceDown test waited in vain for its page).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from soundcheck.stack.part import Part


def rendered_files(directory: Path) -> str:
    """A digest of the part's rendered files (its data directory and its log left out)."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        inside = path.relative_to(directory).parts
        if path.is_file() and "data" not in inside and path.suffix != ".log":
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def prepare_and_reload(part: Part) -> str:
    """Re-render the part's configuration; reload the running process if it changed. Its URL."""
    before = rendered_files(part.dir)
    part.prepare()
    if rendered_files(part.dir) != before:
        answer = httpx.post(f"{part.address()}/-/reload", timeout=30)
        assert answer.status_code == 200, f"{part.name} refused its reload: {answer.text}"
    return part.address()
