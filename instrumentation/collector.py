"""The garbage collector of a long-running service process: what start-up built is kept out of
its scans.

A service's modules (Flask or FastAPI, SQLAlchemy, pydantic, OpenTelemetry) leave a few hundred
thousand objects that live as long as the process; every full collection walked all of them,
and young collections ran every 700 allocations (one request makes a few thousand). Frozen once
the app is loaded, and young objects collected every 20,000 allocations: docs/PERFORMANCE.md has
what it saved per booking token request and in the router's webhook answers.
"""

from __future__ import annotations

import gc

COLLECTOR_THRESHOLDS = (20_000, 20, 20)


def keep_startup_objects_out_of_collections() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
