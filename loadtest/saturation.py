"""Which resource saturated first (plan §2-2 (2), find the bottleneck), and whether the load
generator itself was the limit."""

from __future__ import annotations

from typing import Any

from loadtest.processes import GENERATOR

CPU_BUSY_PERCENT = 90.0  # of one core (a Python process holds the GIL; Redis is one thread)
HOST_BUSY_PERCENT = 90.0  # of all cores
POOL_BUSY_FRACTION = 0.9
SUSTAINED_SAMPLES = 3  # a resource counts as saturated after this many samples in a row
SINGLE_CORE = ("booking", "redis", "router", "pipeline", "sandbox", GENERATOR)


def first_sustained(
    times: list[float],
    values: list[float | None],
    limit: float,
    during: tuple[float, float] = (float("-inf"), float("inf")),
) -> float | None:
    """When `values` first stayed ≥ `limit` for SUSTAINED_SAMPLES samples within `during`."""
    run = 0
    for t, v in zip(times, values, strict=False):
        inside = during[0] <= t <= during[1]
        run = run + 1 if inside and v is not None and v >= limit else 0
        if run >= SUSTAINED_SAMPLES:
            return t
    return None


def candidates(
    samples: dict[str, Any], panels: dict[str, Any], during: tuple[float, float]
) -> list[dict[str, Any]]:
    """Every resource that saturated during the run, with when and why."""
    found = []
    times = samples["times"]
    cores = samples["cores"]
    for name, values in samples["processes_cpu_percent"].items():
        single = name.startswith(SINGLE_CORE)
        limit = CPU_BUSY_PERCENT if single else CPU_BUSY_PERCENT * cores
        at = first_sustained(times, values, limit, during)
        if at is not None:
            found.append(
                {
                    "resource": f"CPU of {name}",
                    "at": at,
                    "why": f"≥ {limit:.0f} % CPU ({'one core' if single else f'{cores} cores'})",
                }
            )
    at = first_sustained(times, samples["host_cpu_percent"], HOST_BUSY_PERCENT, during)
    if at is not None:
        found.append(
            {"resource": "the machine's CPU", "at": at, "why": f"≥ {HOST_BUSY_PERCENT:.0f} %"}
        )
    pool = panels.get("db_pool", {}).get("series", {}).get("value", [])
    size = panels.get("db_pool_size", {}).get("series", {}).get("value", [])
    if pool and size:
        limit_size = max((v for _, v in size if v), default=0)
        if limit_size:
            at = first_sustained(
                [t for t, _ in pool],
                [v for _, v in pool],
                POOL_BUSY_FRACTION * limit_size,
                during,
            )
            if at is not None:
                found.append(
                    {
                        "resource": "the DB connection pool",
                        "at": at,
                        "why": f"≥ {POOL_BUSY_FRACTION:.0%} of {limit_size:.0f} connections",
                    }
                )
    return sorted(found, key=lambda c: c["at"])


def verdict(
    samples: dict[str, Any], panels: dict[str, Any], during: tuple[float, float]
) -> dict[str, Any]:
    """The first resource to saturate within `during` (the run), and the generator's share."""
    saturated = candidates(samples, panels, during)
    generator = samples["parts_cpu_percent"].get(GENERATOR, [])
    generator_limit = first_sustained(samples["times"], generator, CPU_BUSY_PERCENT, during)
    warning = None
    if generator_limit is not None:
        warning = (
            "The load generator used a whole core: it, not the service, may be the limit. "
            "Spread the load over workers (`soundcheck load run --workers N` here, "
            "`soundcheck load worker --master-host ...` elsewhere)."
        )
    return {
        "first": saturated[0] if saturated else None,
        "saturated": saturated,
        "generator_cpu_max_percent": max(generator, default=None),
        "generator_limited": generator_limit is not None,
        "warning": warning,
    }
