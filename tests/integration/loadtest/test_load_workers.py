"""Master and worker (Locust's distributed mode): the master's run is made by a worker process,
as it would be by another machine."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable

from soundcheck import REPO_ROOT
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.mariadb import app_connection
from tests.support.load_runs import LoadResult, assert_exit_matches_verdict


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_worker_makes_the_masters_load(
    run_load: Callable[..., LoadResult], settings: StackSettings
) -> None:
    port = str(free_port())
    worker = subprocess.Popen(
        [sys.executable, "-m", "soundcheck.cli", "load", "worker", "--master-host", "127.0.0.1",
         "--master-port", port],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its generator child goes with it at the end
    )  # fmt: skip
    try:
        result = run_load(
            "run", "token-spike", "--scale", "0.05", "--users", "0.01", "--workers", "1",
            "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
        )  # fmt: skip
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert_exit_matches_verdict(result)
    summary = result.summary
    assert summary["run"]["workers"] == 1
    assert summary["client"]["requests"] > 0
    # The tokens were asked for by the worker's users: their userIds carry its id.
    with app_connection(settings, settings.mariadb_database) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM queue_tokens WHERE user_id LIKE %s",
            (f"{summary['run']['id']}w%",),
        )
        (from_worker,) = cursor.fetchone()
    assert from_worker == summary["client"]["requests"]
