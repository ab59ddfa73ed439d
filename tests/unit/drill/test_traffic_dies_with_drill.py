"""A drill killed with SIGKILL takes its background traffic along: the load generator it started
(`python -m loadtest run`, see loadtest/generator_process.py) went on for up to an hour."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from soundcheck import REPO_ROOT
from tests.support.polling import eventually

# A drill's parent side as the engine runs it: BackgroundTraffic started from the main thread.
DRILL = """
import sys, time
from pathlib import Path
from soundcheck.drill.definition import Traffic
from soundcheck.drill.traffic import BackgroundTraffic
from soundcheck.settings import load_settings

folder, target = Path(sys.argv[1]), sys.argv[2]
traffic = BackgroundTraffic(load_settings(), Traffic("token-spike", 1.0), folder, target)
traffic.start()
print(traffic.child.pid, flush=True)
time.sleep(600)
"""


def nothing_listens() -> str:
    """A URL where the generator's requests are refused at once: it keeps trying, never ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def running(pid: int) -> bool:
    """Whether `pid` is a load generator that has not exited (a zombie awaiting its reaper has)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return b"loadtest" in command and state != "Z"


def test_the_load_generator_exits_when_its_drill_is_killed_with_sigkill(tmp_path: Path) -> None:
    drill = subprocess.Popen(
        [sys.executable, "-c", DRILL, str(tmp_path), nothing_listens()],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert drill.stdout is not None
    generator = int(drill.stdout.readline())
    try:
        sending = tmp_path / "traffic" / "sending"
        eventually(sending.exists, 120, "the generator sending its arrivals (past its start)")
        assert running(generator)
        drill.kill()
        drill.wait(timeout=30)
        eventually(lambda: not running(generator), 30, "the generator gone with its drill")
    finally:
        drill.kill()
        if running(generator):  # the bug: it would send load for an hour
            os.kill(generator, signal.SIGKILL)
