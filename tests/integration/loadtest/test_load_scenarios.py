"""Each of the plan's scenarios at a small scale on the real stack: requests made, every
threshold judged, summary.json plausible, and what matters checked again in MariaDB."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

from alert_rules.slo.spec import load_spec
from loadtest.scenarios import SCENARIOS
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection
from tests.support.load_runs import LoadResult, assert_exit_matches_verdict


def query(settings: StackSettings, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with app_connection(settings, settings.mariadb_database) as conn, conn.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def endpoint(summary: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in summary["client"]["endpoints"] if e["name"] == name)


def assert_plausible(summary: dict[str, Any], scenario: str) -> None:
    """The documented fields, with values that can be true of the run."""
    run, client, server = summary["run"], summary["client"], summary["server"]
    assert summary["schema"] == "soundcheck.load.summary/1"
    assert run["scenario"] == scenario
    assert client["requests"] > 0
    assert client["all_requests"] >= client["requests"]
    assert 0 < client["p50_ms"] <= client["p95_ms"] <= client["p99_ms"] <= client["max_ms"]
    assert client["rps"] == pytest.approx(client["requests"] / client["duration_seconds"])
    assert sum(p["requests"] for p in client["series"]) == client["all_requests"]
    assert sum(client["statuses"].values()) == client["all_requests"]
    assert 0 < client["users_peak"] <= max(s["users"] for s in run["stages"])
    # every threshold the scenario names was judged
    judged = {t["name"]: t for t in summary["thresholds"]}
    assert set(SCENARIOS[scenario].thresholds) <= set(judged)
    assert all(t["status"] in ("passed", "failed", "no data") for t in judged.values())
    for name in ("p95_ms", "p99_ms", "error_rate_percent"):
        assert judged[name]["value"] is not None
    # the server's side: CPU of the stack and of the generator, the SLOs of alert_rules/slo
    cpu = server["cpu"]
    assert "load generator" in cpu["parts_cpu_percent"]
    assert "booking" in cpu["parts_cpu_percent"]
    assert max(cpu["parts_cpu_percent"]["load generator"]) > 0
    assert [s["name"] for s in server["slo"]] == [s.name for s in load_spec()[1]]
    assert "booking_rps" in server["panels"]
    # SQL latency from the service's own spans: every scenario's requests run SQL
    sql = server["panels"]["sql_latency"]["series"]
    p50 = [v for _, v in sql["p50"] if v is not None]
    p99 = [v for _, v in sql["p99"] if v is not None]
    assert p50
    assert all(0 < v < 60 for v in p50)
    assert max(p99) >= max(p50)
    assert summary["server"]["saturation"]["generator_cpu_max_percent"] is not None


def assert_tokens_released(settings: StackSettings, summary: dict[str, Any]) -> None:
    """A run leaves no ACTIVE or WAITING token behind to take real users' places."""
    left = query(
        settings,
        "SELECT COUNT(*) FROM queue_tokens WHERE user_id LIKE %s AND status <> 'EXPIRED'",
        f"{summary['run']['id']}%",
    )
    assert left[0][0] == 0


def test_token_spike_issues_tokens_and_judges_every_threshold(
    token_spike: LoadResult, settings: StackSettings
) -> None:
    assert_exit_matches_verdict(token_spike)
    summary = token_spike.summary
    assert_plausible(summary, "token-spike")
    issued = endpoint(summary, "POST /queue/token")
    assert issued["measured"]
    assert issued["statuses"].get("201", 0) > 0
    rows = query(
        settings,
        "SELECT COUNT(*) FROM queue_tokens WHERE user_id LIKE %s",
        f"{summary['run']['id']}%",
    )
    assert rows[0][0] == issued["statuses"]["201"]  # one token per fresh user, in MariaDB
    assert_tokens_released(settings, summary)


def test_reservation_stress_sells_each_seat_once(
    reservation_stress: LoadResult, settings: StackSettings
) -> None:
    assert_exit_matches_verdict(reservation_stress)
    summary = reservation_stress.summary
    assert_plausible(summary, "reservation-stress")
    reserve = endpoint(summary, "POST /reservations")
    assert set(reserve["statuses"]) <= {"201", "409"}  # the plan's expected answers
    seats = summary["checks"]["seats"]
    assert seats["seats_sold_twice"] == 0
    assert seats["seats_201_mismatched"] == 0
    # Asked again here: the run's schedule, each seat reserved at most once (the run is far
    # shorter than a hold's 300 s), and one 201 per reservation.
    per_seat = query(
        settings,
        "SELECT seat_no, COUNT(*) FROM reservations WHERE schedule_id = %s GROUP BY seat_no",
        seats["schedule_id"],
    )
    assert all(count == 1 for _, count in per_seat)
    assert len(per_seat) == reserve["statuses"].get("201", 0) == seats["responses_201"] > 0
    assert summary["server"]["locks"]["attempts"] >= len(per_seat)
    assert summary["checks"]["kafka"]["delivered_percent"] == 100.0
    assert summary["client"]["visitors"]["started"] > 0  # each user got its ACTIVE token first
    assert_tokens_released(settings, summary)


def test_payment_soak_pays_exactly_and_delivers_every_payment_event(
    payment_soak: LoadResult, settings: StackSettings
) -> None:
    assert_exit_matches_verdict(payment_soak)
    summary = payment_soak.summary
    assert_plausible(summary, "payment-soak")
    paid = endpoint(summary, "POST /payments")["statuses"].get("201", 0)
    points, kafka = summary["checks"]["points"], summary["checks"]["kafka"]
    assert paid > 0
    assert points["payments"] == paid
    assert points["mismatched"] == 0
    assert kafka["payments_written"] == kafka["payments_sunk"] == paid
    in_db = query(
        settings,
        "SELECT COUNT(*) FROM payments WHERE user_id LIKE %s AND status = 'SUCCESS'",
        f"{summary['run']['id']}%",
    )
    assert in_db[0][0] == paid
    memory = summary["server"]["memory"]
    assert memory["growth_percent"] is not None
    assert memory["first_mb"] > 0
    assert_tokens_released(settings, summary)


def test_concert_read_counts_cache_hits(concert_read: LoadResult) -> None:
    assert_exit_matches_verdict(concert_read)
    summary = concert_read.summary
    assert_plausible(summary, "concert-read")
    cache = summary["client"]["cache"]
    assert cache["reads"] == summary["client"]["all_requests"]  # every read says hit or miss
    assert 0 < cache["hits"] <= cache["reads"]
    assert 0 < cache["hit_rate_percent"] <= 100
    assert cache["cached_p95_ms"] is not None


def test_files_beside_the_summary(reservation_stress: LoadResult) -> None:
    folder = reservation_stress.folder
    assert folder is not None
    for name in reservation_stress.summary["files"].values():
        assert (folder / name).stat().st_size > 0
    header = (folder / "series.csv").read_text().splitlines()[0]
    assert header == "t,users,requests,failures,p50_ms,p95_ms,p99_ms"


def test_an_impossible_threshold_fails_the_run_and_names_it(
    run_load: Callable[..., LoadResult],
) -> None:
    result = run_load(
        "run", "concert-read", "--scale", "0.004", "--users", "0.01", "--threshold", "p95_ms=0.01"
    )
    assert result.code == 1
    assert "threshold failed: p95_ms (p95 latency)" in result.stderr
    assert "over by" in result.stderr
    failed = {t["name"] for t in result.summary["thresholds"] if t["status"] == "failed"}
    assert "p95_ms" in failed


def test_capacity_steps_up_with_open_arrivals(run_load: Callable[..., LoadResult]) -> None:
    result = run_load("capacity", "token-spike", "--rates", "2,4", "--step-seconds", "3")
    summary = result.summary
    steps = summary["capacity"]["steps"]
    assert 1 <= len(steps) <= 2
    for step in steps:
        # the sender kept its schedule whatever the answers took (open model)
        assert step["offered"] == pytest.approx(step["rate"] * 3, abs=1)
        assert step["completed"] + step["dropped"] <= step["offered"]
    held = [s["rate"] for s in steps if s["held"]]
    assert summary["capacity"]["max_rate_held"] == (max(held) if held else None)
    assert result.code == (0 if held else 1)
    # The open model's one user (its scheduler) says nothing: the arrivals in flight are shown.
    client = summary["client"]
    assert client["in_flight_peak"] == max(p["in_flight"] for p in client["series"])
    assert client["in_flight_peak"] >= 1  # every send is counted with the arrival it starts
    assert "in flight" in result.stderr
    assert " users " not in result.stderr
    assert result.folder is not None
    report = (result.folder / "report.html").read_text()
    assert "Arrivals waiting for an answer" in report
    assert "Virtual users" not in report
    assert "in_flight" in (result.folder / "series.csv").read_text().splitlines()[0]


def test_a_request_without_an_answer_says_why(run_load: Callable[..., LoadResult]) -> None:
    """No status to show (refused, reset, timed out): the connection's error is the account."""
    with socket.socket() as closed:  # a port nobody listens on once this closes
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    target = f"http://127.0.0.1:{port}"
    result = run_load(
        "capacity", "token-spike", "--rates", "2", "--step-seconds", "2", "--target", target
    )
    assert result.code == 1
    client = result.summary["client"]
    assert set(client["statuses"]) == {"0"}
    assert client["error_samples"]
    for sample in client["error_samples"]:
        assert sample["error"].startswith("no answer (expected (201,)): ConnectionRefusedError")


def test_compare_puts_two_runs_side_by_side(
    run_load: Callable[..., LoadResult], token_spike: LoadResult, concert_read: LoadResult
) -> None:
    assert token_spike.folder is not None
    assert concert_read.folder is not None
    result = run_load("compare", str(token_spike.folder), str(concert_read.folder), "--json")
    rows = {r["figure"]: r for r in json.loads(result.stdout)}
    p95 = rows["p95"]
    assert p95["a"] == token_spike.summary["client"]["p95_ms"]
    assert p95["ratio"] == pytest.approx(p95["b"] / p95["a"])
