"""Between a game day's drills, the steady state tolerates the error-budget alerts that the game
day's own faults raised (they stay firing for 30 minutes or more), and nothing else."""

from soundcheck.drill.steady import tolerated

GAME_DAY_STARTED = 1796083500.0  # 2026-12-01T00:05:00Z


def prometheus_alert(name: str, component: str, active_at: str) -> dict[str, object]:
    labels = {"alertname": name, "component": component, "priority": "P1"}
    return {"labels": labels, "state": "firing", "activeAt": active_at}


def test_a_budget_alert_raised_during_the_game_day_is_tolerated() -> None:
    alert = prometheus_alert("BookingAvailabilityBudgetBurn", "slo", "2026-12-01T00:09:12.5Z")
    assert tolerated(alert, "activeAt", GAME_DAY_STARTED)


def test_a_budget_alert_firing_before_the_game_day_is_waited_for() -> None:
    alert = prometheus_alert(
        "BookingAvailabilityBudgetBurn", "slo", "2026-12-01T00:04:59.123456789Z"
    )
    assert not tolerated(alert, "activeAt", GAME_DAY_STARTED)


def test_a_symptom_alert_is_never_tolerated_and_one_drill_tolerates_no_budget_alert() -> None:
    redis = prometheus_alert("RedisDown", "redis", "2026-12-01T00:09:12Z")
    budget = prometheus_alert("BookingAvailabilityBudgetBurn", "slo", "2026-12-01T00:09:12Z")
    assert not tolerated(redis, "activeAt", GAME_DAY_STARTED)
    assert not tolerated(budget, "activeAt", None)


def test_alertmanager_alerts_are_judged_by_their_start() -> None:
    alert = {
        "labels": {"alertname": "BookingLatencyBudgetBurn", "component": "slo"},
        "startsAt": "2026-12-01T00:06:00.000+00:00",
    }
    assert tolerated(alert, "startsAt", GAME_DAY_STARTED)


def test_the_watchdog_is_always_tolerated() -> None:
    assert tolerated({"labels": {"alertname": "Watchdog"}}, "activeAt", None)
