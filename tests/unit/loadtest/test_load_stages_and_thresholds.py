"""The load tool's pure parts: stages, thresholds, options, the collector, saturation, compare."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from loadtest.collector import Collector, percentile, summarize
from loadtest.compare import compare
from loadtest.saturation import first_sustained, verdict
from loadtest.scenarios import SCENARIOS, UnknownScenario, scenario
from loadtest.stages import Stage, StageError, parse_stages, scaled, total_seconds, users_at
from loadtest.thresholds import (
    THRESHOLDS,
    ThresholdError,
    chosen,
    describe_failure,
    parse_overrides,
)
from soundcheck.cli import app


def test_the_plans_stages_exactly() -> None:
    spike = SCENARIOS["token-spike"].stages
    assert spike == (Stage(10, 100), Stage(30, 1000), Stage(60, 1000), Stage(10, 0))
    assert SCENARIOS["reservation-stress"].stages == (
        Stage(60, 50), Stage(180, 100), Stage(120, 200), Stage(60, 0),
    )  # fmt: skip
    assert SCENARIOS["payment-soak"].stages == (Stage(120, 50), Stage(300, 50))
    assert total_seconds(SCENARIOS["concert-read"].stages) == 30 * 60
    assert [s.think_seconds for s in SCENARIOS.values()] == [1.0, 2.0, 5.0, 3.0]


def test_scale_multiplies_durations_and_users_keeps_at_least_one() -> None:
    small = scaled(SCENARIOS["token-spike"].stages, 0.1, 0.01)
    assert small == (Stage(1, 1), Stage(3, 10), Stage(6, 10), Stage(1, 0))


def test_users_ramp_linearly_and_end() -> None:
    stages = (Stage(10, 100), Stage(10, 100), Stage(10, 0))
    assert users_at(stages, 0) == 0
    assert users_at(stages, 5) == 50
    assert users_at(stages, 15) == 100
    assert users_at(stages, 25) == 50
    assert users_at(stages, 30) is None


def test_stages_option_in_k6_form() -> None:
    assert parse_stages("10s:100, 1m:1000,500ms:0") == (
        Stage(10, 100), Stage(60, 1000), Stage(0.5, 0),
    )  # fmt: skip
    with pytest.raises(StageError, match="DURATION:USERS"):
        parse_stages("10:100")


def test_unknown_scenario_names_the_known_ones() -> None:
    assert scenario("S2").name == "reservation-stress"
    with pytest.raises(UnknownScenario, match="token-spike \\(S1\\)"):
        scenario("spike")


def summary_with(p95: float | None) -> dict[str, Any]:
    return {"client": {"p95_ms": p95}}


def test_a_threshold_says_by_how_much_it_failed() -> None:
    result = THRESHOLDS["p95_ms"].judge(summary_with(612.0))
    assert result["status"] == "failed"
    assert result["by"] == pytest.approx(112.0)
    assert describe_failure(result) == (
        "p95_ms (p95 latency): 612 ms, target < 500 ms: over by 112 ms"
    )
    assert THRESHOLDS["p95_ms"].judge(summary_with(499.0))["status"] == "passed"
    nothing = THRESHOLDS["p95_ms"].judge(summary_with(None))
    assert nothing["status"] == "no data"
    assert not nothing["passed"]  # no timed answer at all fails the run
    assert "nothing was measured" in describe_failure(nothing)
    no_lock = THRESHOLDS["lock_success_percent"].judge({"server": {"locks": {}}})
    assert no_lock["passed"]  # a run that takes no lock has none to judge


def test_overrides_replace_targets_and_refuse_unknown_names() -> None:
    overrides = parse_overrides(["p95_ms=250", "cache_hit_percent=90"])
    picked = {t.name: t.target for t in chosen(("p95_ms", "p99_ms"), overrides)}
    assert picked == {"p95_ms": 250.0, "p99_ms": 1000.0, "cache_hit_percent": 90.0}
    with pytest.raises(ThresholdError, match="there is no threshold 'p96_ms'"):
        parse_overrides(["p96_ms=1"])
    with pytest.raises(ThresholdError, match="NAME=NUMBER"):
        parse_overrides(["p95_ms=fast"])


def test_bad_options_get_a_sentence_not_a_trace() -> None:
    runner = CliRunner()
    for args, sentence in (
        (["load", "run", "S1", "--threshold", "nope=1"], "there is no threshold 'nope'"),
        (["load", "run", "S1", "--stages", "ten:100"], "is not a stage"),
        (["load", "run", "S9"], "There is no scenario 'S9'"),
        (["load", "capacity", "--rates", "0:10:5"], "START:STOP:STEP"),
        (["load", "capacity", "payment-soak"], "has no capacity search"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert sentence in " ".join(result.output.split())
        assert "Traceback" not in result.output


def test_collector_merges_what_workers_send() -> None:
    master, worker = Collector(), Collector()
    master.record(100, "POST /x", True, 201, True, 10.0, tag="seat 1")
    worker.record(100, "POST /x", True, 409, True, 30.0, tag="seat 1")
    worker.record(101, "GET /y", False, 500, False, 5.0, cache_hit="false", error="boom")
    master.merge(worker.drain())
    client = summarize(master, {100: 2, 101: 2}, 100.0, 102.0)
    assert client["requests"] == 2  # the timed ones
    assert client["all_requests"] == 3
    assert client["error_rate_percent"] == pytest.approx(100 / 3)
    assert client["tags"] == {"seat 1": {"201": 1, "409": 1}}
    assert client["cache"]["reads"] == 1
    assert client["cache"]["hits"] == 0
    assert [p["requests"] for p in client["series"]] == [2, 1, 0]
    assert worker.drain()["seconds"] == {}  # drained: nothing sent twice


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) is None


def test_saturation_needs_a_sustained_crossing_within_the_run() -> None:
    times = [float(t) for t in range(10)]
    assert first_sustained(times, [95, 20, 95, 95, 95, 0, 0, 0, 0, 0], 90) == 4.0
    assert first_sustained(times, [95] * 10, 90, during=(5.0, 6.0)) is None
    samples = {
        "times": times,
        "cores": 2,
        "host_cpu_percent": [50.0] * 10,
        "parts_cpu_percent": {"load generator": [99.0] * 10},
        "processes_cpu_percent": {
            "booking web worker 7": [10, 10, 97, 98, 99, 99, 99, 99, 99, 99],
            "mariadb": [150.0] * 10,  # below 90 % of two cores: not saturated
            "load generator": [99.0] * 10,
        },
    }
    found = verdict(samples, {}, (0.0, 9.0))
    assert found["first"]["resource"] == "CPU of load generator"
    assert {c["resource"] for c in found["saturated"]} == {
        "CPU of load generator",
        "CPU of booking web worker 7",
    }
    assert found["generator_limited"]
    assert "load generator" in found["warning"]


def test_compare_gives_b_over_a_and_which_way_is_better() -> None:
    a = {"client": {"p95_ms": 200.0, "rps": 100.0}, "server": {}}
    b = {"client": {"p95_ms": 100.0, "rps": 50.0}, "server": {}}
    rows = {r["figure"]: r for r in compare(a, b)}
    assert rows["p95"]["ratio"] == 0.5
    assert rows["p95"]["better"] is True
    assert rows["timed requests/s"]["better"] is False
