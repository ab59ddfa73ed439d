"""S1, token spike (plan §2-3 scenario 1): a ticket opening, everyone asks for a queue token."""

from __future__ import annotations

from loadtest.scenario import Scenario, Session
from loadtest.stages import Stage

NAME = "POST /queue/token"


class TokenSpikeUser:
    def start(self, session: Session) -> None:
        """Nothing before the timed part: asking for the token is what is timed."""

    def iteration(self, session: Session) -> None:
        session.call(
            "POST",
            "/queue/token",
            expect=(201,),
            name=NAME,
            json={"userId": session.fresh_user_id()},  # user_${__VU}_${__ITER} in the plan
        )


SCENARIO = Scenario(
    name="token-spike",
    plan_id="S1",
    title="Queue token spike: 0 → 100 → 1,000 users, 1 s think time",
    stages=(Stage(10, 100), Stage(30, 1000), Stage(60, 1000), Stage(10, 0)),
    think_seconds=1.0,
    visitor=TokenSpikeUser,
    thresholds=("p95_ms", "p99_ms", "error_rate_percent", "min_rps", "lock_success_percent"),
    measured=(NAME,),
)
