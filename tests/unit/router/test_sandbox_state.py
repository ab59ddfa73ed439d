"""The sandbox keeps the newest entries per target, so a long demo does not grow it forever."""

from __future__ import annotations

from sandbox.state import SandboxState


def test_received_keeps_the_newest_entries_per_target() -> None:
    state = SandboxState(keep=3)
    for n in range(5):
        state.record("slack", "post", {"n": n})
    state.record("email", "mail", {"n": 99})

    assert [e["body"]["n"] for e in state.newest_first("slack")] == [4, 3, 2]
    assert [e["body"]["n"] for e in state.newest_first("email")] == [99]
