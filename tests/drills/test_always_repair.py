"""A drill repairs whatever stops it: an exception in its method, its watchdog's deadline, Ctrl-C
(SIGINT to `soundcheck drill`). The fault here is the booking service's background worker
SIGSTOPped: real, repaired by SIGCONT, and too short for its alert (1 m) to fire."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import yaml

from soundcheck.drill.actions import booking_children
from soundcheck.drill.guard import marker_path
from soundcheck.stack.stack import Stack
from tests.drills.drill_runs import results_for, run_short
from tests.support.polling import eventually

SOUNDCHECK = str(Path(sys.executable).parent / "soundcheck")


def stall_drill(folder: Path, method_after: list[dict[str, object]] | None = None) -> str:
    """A drill file: SIGSTOP the background worker, hold 120 s; repaired by SIGCONT."""
    signal_worker = {"type": "python", "func": "signal_background_worker"}
    drill = {
        "title": "background worker stalled (repair test)",
        "traffic": {"scenario": "concert-read", "rate": 1},
        "hold": {"seconds": 120, "until_paged": False},
        "expect": {"alerts": []},
        "method": [
            {
                "type": "action",
                "name": "stall-worker",
                "provider": {**signal_worker, "arguments": {"signal_name": "SIGSTOP"}},
            },
            *(method_after or []),
        ],
        "rollbacks": [
            {
                "type": "action",
                "name": "resume-worker",
                "provider": {**signal_worker, "arguments": {"signal_name": "SIGCONT"}},
            }
        ],
        "ci": {"hold_seconds": 120, "rate": 1},
    }
    path = folder / "stall.yaml"
    path.write_text(yaml.safe_dump(drill))
    return str(path)


def worker_running(stack: Stack) -> bool:
    found = booking_children(stack, "booking_app worker")
    return bool(found) and all(p.status() != psutil.STATUS_STOPPED for p in found)


def test_an_exception_in_the_method_still_repairs(stack: Stack, tmp_path: Path) -> None:
    broken = {"type": "action", "name": "broken", "provider": {"type": "python", "func": "nope"}}
    journal, said = run_short(stack, stall_drill(tmp_path, [broken]), traffic=False)
    assert journal["status"] == "failed", said
    assert "no function 'nope'" in journal["failed_step"]["error"]
    assert [r["activity"] for r in journal["rollbacks"]] == ["resume-worker"]
    assert journal["repair"]["ok"]
    assert worker_running(stack)
    assert not marker_path(stack.settings.home).exists()


def test_the_watchdog_ends_a_drill_past_its_deadline_and_repairs(
    stack: Stack, tmp_path: Path
) -> None:
    journal, said = run_short(stack, stall_drill(tmp_path), traffic=False, deadline_seconds=3)
    assert journal["status"] == "failed", said
    assert journal["failed_step"]["phase"] == "watchdog"
    window = journal["window"]
    assert window["repair_started"] - window["fault_started"] < 60  # not the 120 s hold
    assert journal["repair"]["ok"]
    assert worker_running(stack)


def test_ctrl_c_stops_the_drill_and_repairs(stack: Stack, tmp_path: Path) -> None:
    results = results_for("ctrl-c")
    drill = subprocess.Popen(
        [SOUNDCHECK, "drill", stall_drill(tmp_path), "--results", str(results), "--settle", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    marker = marker_path(stack.settings.home)
    eventually(lambda: marker.exists() or drill.poll() is not None, 420, "the fault injected")
    assert drill.poll() is None, drill.communicate()[0]
    eventually(lambda: not worker_running(stack), 30, "the background worker stopped")
    drill.send_signal(signal.SIGINT)
    out, _ = drill.communicate(timeout=180)
    assert drill.returncode == 1, out
    assert "verdict Stopped" in out, out
    assert worker_running(stack), out
    assert not marker.exists()
    journal_path = sorted(results.glob("*-drill-stall/journal.json"))[-1]
    assert '"status": "interrupted"' in journal_path.read_text()
