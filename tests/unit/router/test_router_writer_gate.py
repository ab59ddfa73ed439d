"""The store's writer gate across processes: a waiting webhook commit goes before the delivery
worker's next transaction. Real processes on a real SQLite file; who waits where is read from
the kernel's lock table (/proc/locks), so nothing here sleeps to hope an order into being."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support.polling import eventually

CHILD = """
import sys
from sqlalchemy import text
from router.store import Store

store = Store(sys.argv[1])
urgent = sys.argv[2] == "urgent"
print("asking", flush=True)
with store.session(urgent=urgent) as session:
    session.execute(text("INSERT INTO commits (who) VALUES (:who)"), {"who": sys.argv[3]})
    if sys.argv[3] == "holder":
        print("holding", flush=True)
        sys.stdin.readline()
"""


def waiting_pids(lock_file: Path) -> set[int]:
    """Pids blocked in flock() on this file, from the kernel's lock table."""
    inode = os.stat(lock_file).st_ino
    pids = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" not in fields:
            continue
        after = fields[fields.index("->") + 1 :]  # FLOCK ADVISORY WRITE|READ pid maj:min:inode
        if after[0] == "FLOCK" and int(after[4].rsplit(":", 1)[1]) == inode:
            pids.add(int(after[3]))
    return pids


def child(url: str, mode: str, who: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, mode, who],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "asking"
    return proc


def test_a_waiting_webhook_commit_goes_before_a_worker_that_came_later(tmp_path: Path) -> None:
    database = tmp_path / "router.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE commits (n INTEGER PRIMARY KEY, who TEXT)")
    url = f"sqlite:///{database}"

    holder = child(url, "worker", "holder")  # a worker transaction under way
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "holding"

    def blocked(proc: subprocess.Popen[str], on: str) -> None:
        lock = Path(f"{database}.{on}")
        eventually(lambda: proc.pid in waiting_pids(lock), 20, f"{proc.args[-1]} waits on {on}")

    webhook = child(url, "urgent", "webhook")
    blocked(webhook, "writer")  # the webhook commit waits for the writer lock
    worker = child(url, "worker", "worker")
    blocked(worker, "urgent")  # a later worker transaction is held back while a webhook waits

    holder.communicate("go\n", timeout=20)
    for proc in (webhook, worker):
        proc.communicate(timeout=20)
        assert proc.returncode == 0
    with sqlite3.connect(database) as db:
        order = [who for (who,) in db.execute("SELECT who FROM commits ORDER BY n")]
    assert order == ["holder", "webhook", "worker"]
