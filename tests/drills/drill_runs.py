"""Running a drill from a test: its short (CI) settings, results under results/test-drills/, every
progress line kept for the failure message."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from soundcheck import REPO_ROOT
from soundcheck.drill.definition import load_drill
from soundcheck.drill.engine import DrillOptions, run_drill
from soundcheck.drill.log_loss import CHECK_NAME
from soundcheck.stack.part import State
from soundcheck.stack.parts.mariadb import app_connection
from soundcheck.stack.stack import Stack
from tests.support.polling import eventually

SETTLE_SECONDS = 300.0  # the previous drill's collateral alerts resolving on a loaded machine
# The drill tests run one after another like a game day: error-budget alerts their own faults
# raised (db-pool-exhaustion's 503s fire both burn alerts for 30 minutes) do not hold the next.
SESSION_STARTED = time.time()
# Not pytest's tmp_path: pytest deletes all but the newest three base folders of a user, and other
# pytest sessions on the machine would delete a drill's folder while it still runs.
RESULTS = REPO_ROOT / "results" / "test-drills"


def results_for(test: str) -> Path:
    folder = RESULTS / test
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_short(
    stack: Stack, name: str, results: Path | None = None, **options: Any
) -> tuple[dict[str, Any], str]:
    said: list[str] = []
    journal = run_drill(
        stack,
        load_drill(name).short(),
        DrillOptions(
            results=results or results_for(Path(name).stem),
            settle_seconds=SETTLE_SECONDS,
            **{"budget_alerts_since": SESSION_STARTED, **options},
        ),
        said.append,
    )
    return journal, "\n".join(said)


def verdicts(journal: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["verdict"] for c in journal["checks"]}


def assert_log_lines_found(journal: dict[str, Any]) -> None:
    """Every marked line the booking service answered during the drill (one a second) is in
    Elasticsearch, once."""
    lines = journal["loss"]["log_lines"]
    assert lines is not None, journal["loss"]
    assert lines["to_find"] > 0, lines
    assert verdicts(journal)[CHECK_NAME] == "Pass", lines


def assert_drill_held_its_promise(
    stack: Stack, journal: dict[str, Any], said: str, books: bool = True
) -> None:
    """What every drill's CI test asserts of its journal: the expected alert paged within its
    budget (`page_within`: what the alerting design allows; the verdict judges the plan's
    30 s and may say a miss), nothing lost (seats, outbox events, pages, acknowledged log
    lines), repaired and resolved, the stack healthy afterwards."""
    found = verdicts(journal)
    alert = journal["expect"]["alerts"][0]
    assert journal["status"] == "completed", said
    paged = journal["timeline"]["alerts"][alert]["paged"]
    assert paged is not None, said
    assert paged - journal["window"]["fault_started"] <= journal["expect"]["page_within"], said
    for name in ("repaired", "alerts resolved", "recovery", "stack healthy afterwards"):
        assert found[name] == "Pass", (name, said)
    for name in ("no double booking", "no event lost", "each page delivered once, resolved once"):
        # Traffic that books nothing (`books=False`: concert-read) leaves the first two N/A.
        allowed = ("Pass",) if books or name.startswith("each") else ("Pass", "N/A")
        assert found[name] in allowed, (name, journal["loss"], said)
    assert_log_lines_found(journal)
    assert journal["traffic"]["requests"] > 0
    # Asked again for a while, as the drill's own check does: one 1 s probe timeout of a part
    # restarted on a loaded machine is not a sick part.
    eventually(
        lambda: all(s.state is State.RUNNING for s in stack.status()), 60, "every part running"
    )
    assert (Path(journal["folder"]) / "report.html").exists()


def mariadb_count(stack: Stack, sql: str, argument: str) -> int:
    settings = stack.settings
    with app_connection(settings, settings.mariadb_database) as conn, conn.cursor() as cursor:
        cursor.execute(sql, (argument,))
        row: Any = cursor.fetchone()
    return int(row[0])


def probe_passed(journal: dict[str, Any], name: str) -> Any:
    """The measurement of the drill's own probe check `name`, which must have passed."""
    (found,) = [c for c in journal["probe_checks"] if c["name"] == name]
    assert found["verdict"] == "Pass", found
    return found["measured"]
