"""Ctrl-C or SIGTERM while a drill waits for its steady state stops it at once (nothing was
injected), instead of after the whole settle time (420 s between a game day's drills)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

SOUNDCHECK = str(Path(sys.executable).with_name("soundcheck"))


def test_sigterm_during_the_steady_state_wait_stops_the_drill_as_interrupted(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "SOUNDCHECK_HOME": str(tmp_path / "home"),  # a stack that is not running
        "SOUNDCHECK_PORT_OFFSET": "29000",
    }
    results = tmp_path / "results"
    drill = subprocess.Popen(
        [SOUNDCHECK, "drill", "redis-down", "--results", str(results), "--settle", "600"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert drill.stdout is not None
    seen = []
    for line in drill.stdout:
        seen.append(line)
        if "waiting for the steady state" in line:
            break
    assert any("redis is stopped" in line for line in seen), seen
    drill.send_signal(signal.SIGTERM)
    rest, _ = drill.communicate(timeout=60)  # a hang here is the bug: settle is 600 s
    assert drill.returncode == 1
    assert "Stopped while waiting for the steady state" in rest
    (journal_file,) = results.glob("*-drill-redis-down/journal.json")
    journal = json.loads(journal_file.read_text())
    assert journal["status"] == "interrupted"
    assert journal["verdict"] == "Stopped"
    assert journal["window"]["fault_started"] is None
