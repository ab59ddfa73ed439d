"""`soundcheck logs PART -n N` prints the log's last N lines however long they run."""

from __future__ import annotations

from pathlib import Path

from soundcheck.stack.process import ManagedProcess


def write_log(directory: Path, lines: list[str]) -> ManagedProcess:
    process = ManagedProcess(directory)
    process.log_file.write_text("".join(f"{line}\n" for line in lines))
    return process


def test_tail_reaches_back_past_many_blocks(tmp_path: Path) -> None:
    # ~200 bytes a line: 2,000 lines are ~6 of the blocks the tail reads back at a time.
    lines = [f"{n:05d} " + "x" * 194 for n in range(3000)]
    process = write_log(tmp_path, lines)
    assert process.log_tail(2000).splitlines() == lines[-2000:]
    assert process.log_tail(1).splitlines() == lines[-1:]


def test_tail_of_a_short_log_is_the_whole_log(tmp_path: Path) -> None:
    process = write_log(tmp_path, ["ready for connections", "second"])
    assert process.log_tail(50).splitlines() == ["ready for connections", "second"]
    assert process.log_tail(0) == ""


def test_tail_of_a_missing_log_is_empty(tmp_path: Path) -> None:
    assert ManagedProcess(tmp_path / "never-started").log_tail(10) == ""
