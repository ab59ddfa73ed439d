"""S4, concert reads (plan §2-3 scenario 4): 500 users read schedules and seats for 30 minutes;
the cache must answer ≥ 95 % of them, fast."""

from __future__ import annotations

from loadtest.scenario import Scenario, Session
from loadtest.stages import Stage

SCHEDULES = "GET /concerts/{id}/schedules"
SEATS = "GET /concerts/schedules/{id}/seats"


class ConcertReadUser:
    def start(self, session: Session) -> None:
        """Reads need no token."""

    def iteration(self, session: Session) -> None:
        # The plan's concert_1 and schedule_1, both seeded by the service.
        session.call("GET", "/concerts/concert_1/schedules", expect=(200,), name=SCHEDULES)
        session.call("GET", "/concerts/schedules/schedule_1/seats", expect=(200,), name=SEATS)


SCENARIO = Scenario(
    name="concert-read",
    plan_id="S4",
    title="Concert reads: 500 users for 30 min, 3 s think time",
    # k6's single stage `{duration: '30m', target: 500}` ramps over the 30 minutes; the plan
    # says "30분간 500명 유지" (500 held for 30 min), which is what is built here: a 30 s ramp.
    stages=(Stage(30, 500), Stage(1770, 500)),
    think_seconds=3.0,
    visitor=ConcertReadUser,
    thresholds=(
        "p95_ms",
        "p99_ms",
        "error_rate_percent",
        "min_rps",
        "cache_hit_percent",
        "cached_read_p95_ms",
    ),
    measured=(SCHEDULES, SEATS),
)
