"""Every drill with its short settings against the real stack: the expected alert pages within
its budget, nothing is lost, the fault is repaired and resolved, the stack is healthy after
(redis-down and db-down run as the short game day of test_game_day.py): Kafka down during
payments, the pool exhausted behind row locks, the Sentinel group's master killed."""

from __future__ import annotations

from soundcheck.drill.queue_stall import USER_PREFIX
from soundcheck.drill.redis_failover import (
    group_whole,
    instance_directory,
    scrape_target_file,
    sentinel_group,
)
from soundcheck.stack.process import ManagedProcess
from soundcheck.stack.stack import Stack
from tests.drills.drill_runs import (
    assert_drill_held_its_promise,
    mariadb_count,
    probe_passed,
    run_short,
    verdicts,
)
from tests.drills.test_always_repair import worker_running
from tests.support.prometheus_api import PrometheusApi


def test_kafka_down_during_payments_pages_and_every_payment_event_is_sunk_once(
    stack: Stack,
) -> None:
    journal, said = run_short(stack, "kafka-down")
    assert_drill_held_its_promise(stack, journal, said)
    assert verdicts(journal)["detect: KafkaDown paged"] == "Pass", said  # within the plan's 30 s
    assert journal["traffic_plan"]["scenario"] == "payment-soak"
    outbox = journal["loss"]["outbox"]
    assert outbox["written"] > 0, outbox
    assert outbox["payments_written"] > 0, outbox  # payments were made, some while Kafka was down
    assert outbox["payments_sunk"] == outbox["payments_written"], outbox
    assert journal["loss"]["seats_sold_twice"] == 0


def test_db_pool_exhaustion_pages_and_requests_behind_the_locks_get_503s(stack: Stack) -> None:
    journal, said = run_short(stack, "db-pool-exhaustion")
    assert_drill_held_its_promise(stack, journal, said)
    inside = journal["traffic"]["inside"]
    refused = {k: n for k, n in inside["failed_by_request"].items() if k.endswith(" 503")}
    assert refused, inside  # the background traffic met the exhausted pool: failures, measured
    (crowd,) = [c for c in journal["probe_checks"] if c["name"].startswith("requests behind")]
    assert crowd["verdict"] == "Pass", crowd
    assert crowd["measured"]["refusals_by_error"].get("database_rows_locked", 0) > 0, crowd


def test_booking_crash_pages_and_the_service_comes_back(stack: Stack) -> None:
    journal, said = run_short(stack, "booking-crash")
    assert_drill_held_its_promise(stack, journal, said)
    assert [r["activity"] for r in journal["run"]] == ["kill-one-gunicorn-worker", "kill-booking"]


def test_redis_failover_promotes_a_replica_pages_and_leaves_the_group_whole(stack: Stack) -> None:
    journal, said = run_short(stack, "redis-failover")
    assert_drill_held_its_promise(stack, journal, said)
    (failover,) = [c for c in journal["probe_checks"] if c["name"].startswith("failover")]
    assert failover["verdict"] == "Pass", failover
    assert failover["measured"]["new_master"] != failover["measured"]["old_master"], failover
    # the traffic went to the drill's own instance on the Sentinel group, stopped afterwards
    assert [a["status"] for a in (*journal["setup"], *journal["teardown"])] == ["succeeded"] * 2
    assert "Sentinel group at http://" in journal["setup"][0]["output"], journal["setup"]
    settings = stack.settings
    assert not ManagedProcess(instance_directory(settings)).is_alive()
    # Prometheus judged the drill's instance with the booking alerts while it ran, not after
    side = journal["setup"][0]["output"].rsplit("http://", 1)[1]
    prometheus = PrometheusApi(stack.part("prometheus").address())
    scraped = prometheus.series(f'max_over_time(up{{job="booking", instance="{side}"}}[15m])')
    assert [s["value"][1] for s in scraped] == ["1"], f"{side} was not scraped: {scraped}"
    target_file = scrape_target_file(stack)
    assert target_file is not None
    assert not target_file.exists()
    assert group_whole(settings, sentinel_group(stack))  # the killed node is a replica again


# Before the game day: its db-down fires QueueActivationLate (inhibited by MariaDBDown), and a
# re-fire within Prometheus's 15 minutes of resending the resolved alert lands in Alertmanager's
# still-open group, sent at its next group_interval (1 m for P1) instead of after group_wait.
def test_queue_activation_stall_is_real_and_pages_within_its_budget(stack: Stack) -> None:
    journal, said = run_short(stack, "queue-activation-stall")
    assert_drill_held_its_promise(stack, journal, said, books=False)  # concert-read traffic
    probe_passed(journal, "queue activation stalled (the fault is real)")
    assert worker_running(stack)
    left = "SELECT COUNT(*) FROM queue_tokens WHERE user_id LIKE %s AND status <> 'EXPIRED'"
    assert mariadb_count(stack, left, f"{USER_PREFIX}%") == 0
