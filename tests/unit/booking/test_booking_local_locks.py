"""The in-process lock of degraded mode: exclusive per key, bounded wait, nothing left behind."""

from __future__ import annotations

import threading

import pytest

from booking_app.locks import LocalLocks, LockTimeout


def test_second_holder_of_a_key_times_out_while_the_first_holds_it() -> None:
    locks = LocalLocks()
    held, release = threading.Event(), threading.Event()

    def first() -> None:
        with locks.hold("seat:1", 1.0):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    held.wait(5)
    with pytest.raises(LockTimeout), locks.hold("seat:1", 0.05):
        pass
    with locks.hold("seat:2", 0.05):  # another key is independent
        pass
    release.set()
    thread.join()
    with locks.hold("seat:1", 0.05):  # free again once released
        pass
    assert locks._locks == {}  # no lock object kept for keys nobody holds


def test_lock_is_released_when_the_body_raises() -> None:
    locks = LocalLocks()
    with pytest.raises(ValueError, match="boom"), locks.hold("seat:3", 0.05):
        raise ValueError("boom")
    with locks.hold("seat:3", 0.05):
        pass
