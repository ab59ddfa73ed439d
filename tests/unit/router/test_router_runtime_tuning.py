"""The router's processes collect garbage rarely and hand the GIL over every millisecond."""

from __future__ import annotations

import subprocess
import sys


def test_tune_for_latency_sets_the_collector_and_the_switch_interval() -> None:
    script = (
        "import gc, sys\n"
        "before = sys.getswitchinterval()\n"
        "from router.runtime_tuning import tune_for_latency\n"
        "tune_for_latency()\n"
        "print(before, sys.getswitchinterval(), gc.get_threshold(), gc.get_freeze_count() > 0)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split(maxsplit=1)
    assert float(out[0]) == 0.005  # Python's default, so the call is what changes it
    assert out[1].strip() == "0.001 (20000, 20, 20) True"
