"""One detached service process: started in its own session, tracked by a pid file.

The pid file records the process's start as well, so a recycled pid is never mistaken for our
service: in clock ticks after boot (/proc/<pid>/stat), which no wall-clock step moves. A start
time in wall-clock seconds (psutil's create_time: boot time + ticks) moves with the clock: when
this machine's VM was paused and resumed, every part of a running stack looked crashed, a drill
could not repair it, and `soundcheck down` left the processes running. A pid file whose process
is gone means the part died without being stopped: that is how `status` tells *crashed* from
*stopped*.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

_TAIL_BLOCK = 64 * 1024


@dataclass(frozen=True)
class ProcessRecord:
    pid: int
    create_time: float
    started_at: float
    start_ticks: int | None = None  # None in pid files written before it was recorded


def start_ticks(pid: int) -> int | None:
    """When the process started, in clock ticks after boot (field 22 of /proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ", comm may hold spaces
    return int(fields[19])


class ManagedProcess:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pid_file = directory / "pid.json"
        self.log_file = directory / "output.log"

    def record(self) -> ProcessRecord | None:
        try:
            data = json.loads(self.pid_file.read_text())
            ticks = data.get("start_ticks")
            return ProcessRecord(
                int(data["pid"]),
                float(data["create_time"]),
                data["started_at"],
                None if ticks is None else int(ticks),
            )
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None

    def process(self) -> psutil.Process | None:
        """The live process of the pid file, or None if it has gone (or was never started)."""
        record = self.record()
        if record is None:
            return None
        try:
            proc = psutil.Process(record.pid)
            if record.start_ticks is not None:
                if start_ticks(record.pid) != record.start_ticks:
                    return None  # the pid was recycled by an unrelated process
            elif abs(proc.create_time() - record.create_time) > 1.0:
                return None  # the same, as far as a wall-clock start time can tell
            if proc.status() == psutil.STATUS_ZOMBIE:
                proc.wait(timeout=0)  # reap it if it is our child
                return None
            return proc
        except (psutil.NoSuchProcess, psutil.TimeoutExpired):
            return None

    def is_alive(self) -> bool:
        return self.process() is not None

    def was_started(self) -> bool:
        """True while a pid file says we started it and have not stopped it since."""
        return self.pid_file.exists()

    def start(
        self, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(
                f"\n--- soundcheck: starting at {time.strftime('%F %T')}: {argv[0]}\n".encode()
            )
            log.flush()
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                cwd=cwd or self.directory,
                start_new_session=True,  # own process group: stop kills it and its children
            )
        record = {
            "pid": proc.pid,
            "create_time": psutil.Process(proc.pid).create_time(),
            "start_ticks": start_ticks(proc.pid),
            "started_at": time.time(),
        }
        self.pid_file.write_text(json.dumps(record))
        return proc.pid

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the process group, wait, then SIGKILL what is left; forget the pid."""
        proc = self.process()
        if proc is not None:
            group = _members_of_group(proc)
            _signal_group(proc.pid, signal.SIGTERM)
            _, alive = psutil.wait_procs(group, timeout=timeout)
            if alive:
                _signal_group(proc.pid, signal.SIGKILL)
                psutil.wait_procs(alive, timeout=10)
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL without cleanup, as a crash would; the pid file stays (drills use this)."""
        proc = self.process()
        if proc is not None:
            _signal_group(proc.pid, signal.SIGKILL)
            psutil.wait_procs([proc], timeout=10)

    def forget(self) -> None:
        self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 20) -> str:
        """The log's last `lines` lines, read back from its end a block at a time."""
        try:
            with self.log_file.open("rb") as log:
                start = log.seek(0, os.SEEK_END)
                blocks: list[bytes] = []
                newlines = 0
                # One newline more than asked: the first line read may be cut.
                while start > 0 and newlines <= lines:
                    size = min(_TAIL_BLOCK, start)
                    start -= size
                    log.seek(start)
                    blocks.append(log.read(size))
                    newlines += blocks[-1].count(b"\n")
        except FileNotFoundError:
            return ""
        text = b"".join(reversed(blocks)).decode(errors="replace")
        tail = text.splitlines()[-lines:] if lines > 0 else []
        return "\n".join(tail)


def _members_of_group(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return [proc]


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)
