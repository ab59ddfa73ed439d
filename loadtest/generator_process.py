"""The load generator's process (`python -m loadtest ...`) dies with the process that started it
(`soundcheck load`, a drill's background traffic): a parent killed with SIGKILL runs no cleanup,
and its generator went on sending load for up to an hour.

How: the parent names itself in the child's environment; the child's first act is to ask Linux
for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG), then to check that the parent is still
its parent (one that died before the request would never send the signal). Chosen over
`preexec_fn` (Python calls it unsafe in a process with threads: a drill has several) and over a
thread in the child polling `os.getppid()` (under gevent's monkey-patching a thread is a greenlet,
which runs only when the generator yields; the kernel's signal needs no one's turn). The signal
follows the parent *thread* that started the child: the drill engine and `soundcheck load` start
it from their main thread.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from typing import Any

from soundcheck import REPO_ROOT

PARENT_VARIABLE = "SOUNDCHECK_LOAD_PARENT_PID"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def start_generator(arguments: list[str], **popen: Any) -> subprocess.Popen[bytes]:
    """`python -m loadtest ARGUMENTS...` from the repository, bound to die with this process;
    `popen` as subprocess.Popen's (stdout, stderr)."""
    return subprocess.Popen(
        [sys.executable, "-m", "loadtest", *arguments],
        cwd=REPO_ROOT,
        env={**os.environ, PARENT_VARIABLE: str(os.getpid())},
        **popen,
    )


def exit_with_parent() -> None:
    """In the generator, first thing: be killed when the parent that started it dies, or exit now
    if it already has. A generator started by hand (no parent named) is left alone."""
    parent = os.environ.pop(PARENT_VARIABLE, None)  # not for the generator's own children
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) refused")
    if os.getppid() != int(parent):
        sys.stderr.write("error: the process that started this load generator is gone\n")
        os._exit(3)
