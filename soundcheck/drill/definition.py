"""Drill files: drills/<name>.yaml, in Chaos Toolkit's experiment vocabulary (title, description,
steady-state-hypothesis, method, rollbacks; activities with a python provider) plus Soundcheck's
own keys (failure_point, traffic, hold, expect, ci). docs/drills.md describes every key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from soundcheck import REPO_ROOT

DRILLS = REPO_ROOT / "drills"
DEFAULT_DETECT_SECONDS = 30.0  # plan §7-1: detection within 30 s
DEFAULT_RECOVER_SECONDS = 300.0  # plan §7-1: recovery within 5 min


class DrillError(RuntimeError):
    """A drill cannot be read or run; the message says what to do."""


@dataclass(frozen=True)
class Activity:
    """One action or probe: `func` of soundcheck.drill.actions (or of `module`) with arguments."""

    name: str
    func: str
    arguments: dict[str, Any] = field(default_factory=dict)
    module: str = "soundcheck.drill.actions"
    pause_after: float = 0.0


@dataclass(frozen=True)
class Expect:
    alerts: tuple[str, ...]  # must fire and page; the first one is timed as detection
    collateral: tuple[str, ...] = ()  # others that may fire and are no false page
    detect_within: float = DEFAULT_DETECT_SECONDS
    # What the alerting design allows (scrape + `for` + Alertmanager's group_wait + delivery);
    # above detect_within when a rule cannot meet the plan: the verdict still says the miss.
    page_within: float = DEFAULT_DETECT_SECONDS
    recover_within: float = DEFAULT_RECOVER_SECONDS
    degraded_mode: bool = False  # bookings keep succeeding while the fault lasts
    # "page": detection is the page at PagerDuty. "firing": the fault is the paging path itself
    # (PagerDuty down), so detection is the alert firing at Alertmanager, and the page is judged
    # on its own against page_within.
    detect_by: str = "page"


@dataclass(frozen=True)
class Traffic:
    scenario: str = "reservation-stress"
    rate: float = 4.0  # arrivals per second (open model)


@dataclass(frozen=True)
class Drill:
    name: str
    title: str
    description: str
    failure_point: str
    method: tuple[Activity, ...]
    rollbacks: tuple[Activity, ...]
    expect: Expect
    traffic: Traffic
    hold_seconds: float  # the fault stays at least this long
    hold_until_paged: bool  # ... and until the expected alerts paged (or their budget ran out)
    ci: dict[str, float]  # short settings: hold_seconds, rate, until_paged (0 = no)
    source: Path
    # Before the traffic: what the drill needs that the stack does not run; `teardown` undoes
    # it once the traffic has stopped (both always, like the rollbacks, once setup began).
    setup: tuple[Activity, ...] = ()
    teardown: tuple[Activity, ...] = ()

    @property
    def repairs(self) -> tuple[Activity, ...]:
        """Everything a drill killed midway owes the stack: rollbacks, then teardown."""
        return self.rollbacks + self.teardown

    def short(self) -> Drill:
        """The CI settings: a short fault and low traffic."""
        from dataclasses import replace

        return replace(
            self,
            hold_seconds=self.ci.get("hold_seconds", min(self.hold_seconds, 15.0)),
            hold_until_paged=bool(self.ci.get("until_paged", self.hold_until_paged)),
            traffic=replace(self.traffic, rate=self.ci.get("rate", min(self.traffic.rate, 2.0))),
        )


def activity(raw: dict[str, Any], where: str) -> Activity:
    provider = raw.get("provider") or {}
    if provider.get("type", "python") != "python" or "func" not in provider:
        raise DrillError(f"{where}: each activity needs provider: {{type: python, func: NAME}}.")
    pauses = raw.get("pauses") or {}
    return Activity(
        name=str(raw.get("name") or provider["func"]),
        func=str(provider["func"]),
        arguments=dict(provider.get("arguments") or {}),
        module=str(provider.get("module") or "soundcheck.drill.actions"),
        pause_after=float(pauses.get("after", 0)),
    )


def detect_by(expect: dict[str, Any], where: str) -> str:
    how = str(expect.get("detect_by", "page"))
    if how not in ("page", "firing"):
        raise DrillError(f"{where}: expect.detect_by is {how!r}; it is page or firing.")
    return how


def parse(raw: dict[str, Any], source: Path) -> Drill:
    where = source.name
    try:
        expect = raw.get("expect") or {}
        traffic = raw.get("traffic") or {}
        return Drill(
            name=source.stem,
            title=str(raw["title"]),
            description=str(raw.get("description", "")).strip(),
            failure_point=str(raw.get("failure_point", "")),
            method=tuple(activity(a, where) for a in raw["method"]),
            rollbacks=tuple(activity(a, where) for a in raw.get("rollbacks") or []),
            setup=tuple(activity(a, where) for a in raw.get("setup") or []),
            teardown=tuple(activity(a, where) for a in raw.get("teardown") or []),
            expect=Expect(
                alerts=tuple(expect.get("alerts") or ()),
                collateral=tuple(expect.get("collateral") or ()),
                detect_within=float(expect.get("detect_within", DEFAULT_DETECT_SECONDS)),
                page_within=float(
                    expect.get("page_within", expect.get("detect_within", DEFAULT_DETECT_SECONDS))
                ),
                recover_within=float(expect.get("recover_within", DEFAULT_RECOVER_SECONDS)),
                degraded_mode=bool(expect.get("degraded_mode", False)),
                detect_by=detect_by(expect, where),
            ),
            traffic=Traffic(
                scenario=str(traffic.get("scenario", "reservation-stress")),
                rate=float(traffic.get("rate", 4.0)),
            ),
            hold_seconds=float((raw.get("hold") or {}).get("seconds", 60)),
            hold_until_paged=bool((raw.get("hold") or {}).get("until_paged", True)),
            ci={k: float(v) for k, v in (raw.get("ci") or {}).items()},
            source=source,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise DrillError(f"{where}: {error!r} (docs/drills.md lists every key).") from None


def drill_names() -> list[str]:
    return sorted(p.stem for p in DRILLS.glob("*.yaml"))


def load_drill(name: str) -> Drill:
    """A drill by name (drills/<name>.yaml), or any drill file by its path (ends in .yaml)."""
    path = Path(name) if name.endswith(".yaml") else DRILLS / f"{name}.yaml"
    if not path.exists():
        raise DrillError(
            f"No drill named {name!r}; `soundcheck drill list` shows them: "
            f"{', '.join(drill_names())}."
        )
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict):
        raise DrillError(f"{path.name} is not a YAML mapping (docs/drills.md).")
    return parse(raw, path)
