"""The time window of the /logs and /dashboards pages: `from` and `to` as ISO 8601 times or
relative to now (`now`, `now-15m`, `now-2h`, `now-7d`), checked and turned into moments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

RELATIVE = re.compile(r"now(?:-(\d{1,6})([smhdw]))?")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
LONGEST = timedelta(days=31)
CHOICES = ("now-15m", "now-1h", "now-6h", "now-24h", "now-7d")


class BadWindow(ValueError):
    """`from`/`to` cannot be read or make no window; the message says which and why."""


@dataclass(frozen=True)
class TimeWindow:
    start_text: str
    end_text: str
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def moment(text: str, name: str, now: datetime) -> datetime:
    relative = RELATIVE.fullmatch(text)
    if relative:
        amount, unit = relative.groups()
        return now - timedelta(seconds=int(amount or 0) * UNIT_SECONDS.get(unit or "s", 1))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadWindow(
            f"`{name}` must be an ISO 8601 time (2026-11-30T20:00:00Z) or relative to now "
            f"(now, now-15m, now-2h, now-7d); {text[:40]!r} is neither."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def time_window(start: str | None, end: str | None, default_start: str) -> TimeWindow:
    now = datetime.now(UTC)
    start_text, end_text = (start or default_start).strip(), (end or "now").strip()
    window = TimeWindow(
        start_text,
        end_text,
        moment(start_text, "from", now).astimezone(UTC),
        moment(end_text, "to", now).astimezone(UTC),
    )
    if window.start >= window.end:
        raise BadWindow(f"`from` ({start_text}) must be before `to` ({end_text}).")
    if window.end - window.start > LONGEST:
        raise BadWindow("The window is longer than 31 days; choose a shorter one.")
    return window
