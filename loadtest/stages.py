"""Stages of a closed-model run, as in k6: ramp linearly to `users` over `seconds`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

STAGE_PATTERN = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h):(\d+)")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class StageError(ValueError):
    """A stage list that cannot be read; the message says how to write one."""


@dataclass(frozen=True)
class Stage:
    seconds: float
    users: int


def parse_stages(text: str) -> tuple[Stage, ...]:
    """`10s:100,30s:1000,1m:1000,10s:0` → stages (the k6 form of the plan's scripts)."""
    stages = []
    for part in text.split(","):
        found = STAGE_PATTERN.fullmatch(part.strip())
        if not found:
            raise StageError(
                f"{part.strip()!r} is not a stage: write DURATION:USERS, e.g. 30s:1000 or 2m:50, "
                "separated by commas."
            )
        seconds = float(found.group(1)) * UNIT_SECONDS[found.group(2)]
        stages.append(Stage(seconds, int(found.group(3))))
    if not stages or sum(s.seconds for s in stages) <= 0:
        raise StageError("The stages must last longer than zero seconds.")
    return tuple(stages)


def format_stages(stages: tuple[Stage, ...]) -> str:
    return ",".join(f"{s.seconds:g}s:{s.users}" for s in stages)


def scaled(stages: tuple[Stage, ...], duration: float, users: float) -> tuple[Stage, ...]:
    """Every duration times `duration`, every user count times `users` (at least 1 where the
    plan has any, so a small scale still runs the scenario)."""
    return tuple(
        Stage(s.seconds * duration, max(1, math.ceil(s.users * users)) if s.users else 0)
        for s in stages
    )


def total_seconds(stages: tuple[Stage, ...]) -> float:
    return sum(s.seconds for s in stages)


def peak_users(stages: tuple[Stage, ...]) -> int:
    return max(s.users for s in stages)


def users_at(stages: tuple[Stage, ...], elapsed: float, start_users: int = 0) -> int | None:
    """Users wanted `elapsed` seconds into the run; None once the last stage is over."""
    previous = start_users
    for stage in stages:
        if elapsed < stage.seconds:
            fraction = elapsed / stage.seconds if stage.seconds else 1.0
            return round(previous + (stage.users - previous) * fraction)
        elapsed -= stage.seconds
        previous = stage.users
    return None
