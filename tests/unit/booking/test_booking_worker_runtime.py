"""A booking web worker keeps its start-up objects out of the garbage collector's scans."""

from __future__ import annotations

import subprocess
import sys


def test_loaded_worker_freezes_startup_objects_and_collects_young_ones_less_often() -> None:
    script = (
        "import gc\n"
        "from booking_app import gunicorn_conf\n"
        "before = gc.get_threshold()\n"
        "gunicorn_conf.post_worker_init(None)\n"
        "print(before[0], gc.get_threshold(), gc.get_freeze_count() > 0)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split(maxsplit=1)
    assert out[0] == "700"  # Python's default, so the hook is what changes it
    assert out[1].strip() == "(20000, 20, 20) True"
