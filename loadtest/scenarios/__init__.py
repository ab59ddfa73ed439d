"""The registry of load scenarios: adding one is one module and one line here."""

from __future__ import annotations

from loadtest.scenario import Scenario
from loadtest.scenarios import concert_read, payment_soak, reservation_stress, token_spike

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        token_spike.SCENARIO,
        reservation_stress.SCENARIO,
        payment_soak.SCENARIO,
        concert_read.SCENARIO,
    )
}


class UnknownScenario(LookupError):
    """A scenario name that is not in the registry."""


def scenario(name: str) -> Scenario:
    for candidate in SCENARIOS.values():
        if name in (candidate.name, candidate.plan_id, candidate.plan_id.lower()):
            return candidate
    raise UnknownScenario(
        f"There is no scenario {name!r}. Choose one of: "
        + ", ".join(f"{s.name} ({s.plan_id})" for s in SCENARIOS.values())
        + "."
    )
