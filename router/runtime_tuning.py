"""Runtime tuning for the router's long-running processes (webhook and delivery): the garbage
collector's thresholds and the GIL switch interval, for fewer and shorter pauses."""

from __future__ import annotations

import sys

from instrumentation.collector import keep_startup_objects_out_of_collections

GIL_SWITCH_SECONDS = 0.001


def tune_for_latency() -> None:
    """Collect garbage less often, and hand the GIL over sooner.

    What start-up built lives as long as the process: it is kept out of the collector's scans,
    and young objects are collected less often. A full scan stalled webhook answers for ~100 ms;
    in the delivery worker it stalls them too when it comes while the worker holds the writer
    lock.

    SQLite releases the GIL around every statement, and the thread that wants it back waited up
    to Python's default 5 ms switch interval behind the event loop (or the delivery threads):
    a webhook's five statements and commit took 5-50 ms of wall time for ~1.6 ms of work, and
    the worker held the writer lock as long. At 1 ms the webhook answer's p99 at 1,000 alerts/s
    went from 50-58 ms to 31-32 ms (docs/PERFORMANCE.md).
    """
    keep_startup_objects_out_of_collections()
    sys.setswitchinterval(GIL_SWITCH_SECONDS)
