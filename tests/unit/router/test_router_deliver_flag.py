"""`python -m router --deliver` is started by the router itself; alone it says so and exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_deliver_alone_explains_itself() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SOUNDCHECK_ROUTER_WAKE_FD"}
    done = subprocess.run(
        [sys.executable, "-m", "router", "--deliver"],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[3],
        timeout=60,
    )
    assert done.returncode == 2
    assert "start `python -m router`" in done.stderr
