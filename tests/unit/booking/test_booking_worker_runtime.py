"""A booking web worker keeps its start-up objects out of the garbage collector's scans."""

from __future__ import annotations

import gc

from booking_app import gunicorn_conf


def test_loaded_worker_freezes_startup_objects_and_collects_young_ones_less_often() -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0  # nothing else froze them: the hook is what does
    try:
        gunicorn_conf.post_worker_init(None)
        assert gc.get_threshold() == (20_000, 20, 20)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
