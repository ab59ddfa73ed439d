"""What slos.yml says, read into SLOs and alert tiers, beside the SRE workbook's window pairs;
durations and decimals written as Prometheus and promtool read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

HERE = Path(__file__).parent
SPEC = HERE / "slos.yml"
MINUTES = {"m": 1, "h": 60, "d": 1440}


@dataclass(frozen=True)
class WindowPair:
    """One multi-window condition: burn rate over both windows above `factor`."""

    tier: str
    factor: Decimal
    long: str
    short: str


WINDOW_PAIRS = (
    WindowPair("page", Decimal("14.4"), "1h", "5m"),
    WindowPair("page", Decimal("6"), "6h", "30m"),
    WindowPair("ticket", Decimal("3"), "1d", "2h"),
    WindowPair("ticket", Decimal("1"), "3d", "6h"),
)
TIERS = ("page", "ticket")


def minutes(duration: str) -> int:
    found = re.fullmatch(r"(\d+)([mhd])", duration)
    if not found:
        raise ValueError(f"durations here are like 5m, 6h or 3d, not {duration!r}")
    return int(found.group(1)) * MINUTES[found.group(2)]


def duration(total_minutes: int) -> str:
    for unit in ("d", "h"):
        if total_minutes % MINUTES[unit] == 0:
            return f"{total_minutes // MINUTES[unit]}{unit}"
    return f"{total_minutes}m"


def number(value: Decimal) -> str:
    """A decimal written exactly, without exponent or trailing zeros (0.001, 14.4, 6)."""
    text = format(value.normalize(), "f")
    return text


@dataclass(frozen=True)
class Tier:
    name: str
    priority: str
    severity: str
    for_minutes: int


@dataclass(frozen=True)
class Slo:
    name: str
    alert: str
    service: str
    objective_percent: Decimal
    description: str
    minimum_request_rate: Decimal
    sli: dict[str, str]
    test_series: dict[str, str]
    dashboard_url: str

    @property
    def objective(self) -> Decimal:
        return self.objective_percent / 100

    @property
    def budget(self) -> Decimal:
        return 1 - self.objective

    def selector(self) -> str:
        return f'slo="{self.name}"'

    def requests_rate(self, window: str) -> str:
        return f"sum(rate({self.sli['requests']}[{window}]))"

    def errors_rate(self, window: str) -> str:
        if "errors" in self.sli:
            # `or vector(0)`: no 5xx series at all means a zero error rate, not "no data".
            return f"(sum(rate({self.sli['errors']}[{window}])) or vector(0))"
        return f"({self.requests_rate(window)} - sum(rate({self.sli['good']}[{window}])))"


def load_spec(path: Path = SPEC) -> tuple[dict[str, Tier], list[Slo]]:
    data = yaml.safe_load(path.read_text())
    tiers = {
        name: Tier(name, t["priority"], t["severity"], minutes(t["for"]))
        for name, t in data["tiers"].items()
    }
    if set(tiers) != set(TIERS):
        raise ValueError(f"slos.yml must define exactly the tiers {TIERS}")
    slos = []
    for item in data["slos"]:
        sli = dict(item["sli"])
        if "requests" not in sli or ("errors" in sli) == ("good" in sli):
            raise ValueError(f"SLO {item['name']}: sli needs `requests` and one of errors/good")
        slos.append(
            Slo(
                name=item["name"],
                alert=item["alert"],
                service=item["service"],
                objective_percent=Decimal(str(item["objective"])),
                description=item["description"],
                minimum_request_rate=Decimal(str(item["minimum_request_rate"])),
                sli=sli,
                test_series=dict(item["test_series"]),
                dashboard_url=item["dashboard_url"],
            )
        )
    return tiers, slos
