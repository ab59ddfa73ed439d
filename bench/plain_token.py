"""The plain form of POST /queue/token: a bare WSGI callable, no framework, no
instrumentation, the service's own statements (booking_app.queue_statements.issue) on an engine
made as the service's is. What the service's capacity is measured against.

    BOOKING_DATABASE_URL=... gunicorn -k gthread -w 3 --threads 16 bench.plain_token:app

`start_plain` starts it under the booking service's gunicorn workers and threads, on a database
of its own migrated to the service's schema.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine

from booking_app import schema
from booking_app.db import committed, make_engine, utcnow
from booking_app.queue_statements import QueueLimits, issue, position, settle, settled
from booking_app.settings import BookingSettings, GunicornSettings
from instrumentation.collector import keep_startup_objects_out_of_collections
from soundcheck import REPO_ROOT
from soundcheck.settings import StackSettings
from soundcheck.stack.parts.booking import database_url, fresh_database
from soundcheck.stack.process import ManagedProcess

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

# What the service's gunicorn hook does once its app is loaded (gunicorn_conf.post_worker_init):
# the two sides run under the same server settings.
keep_startup_objects_out_of_collections()


@cache
def _engine_and_limits() -> tuple[Engine, QueueLimits]:
    settings = BookingSettings()
    engine = make_engine(settings)
    return engine, QueueLimits.of(settings)


def _answer(start_response: StartResponse, status: str, body: object) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    route = (environ["REQUEST_METHOD"], environ["PATH_INFO"])
    if route == ("GET", "/health"):
        return _answer(start_response, "200 OK", {"status": "ok"})
    if route != ("POST", "/queue/token"):
        return _answer(start_response, "404 Not Found", {"error": "not_found"})
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        user_id = json.loads(environ["wsgi.input"].read(length))["userId"]
    except (ValueError, KeyError, TypeError):
        return _answer(start_response, "400 Bad Request", {"error": "invalid_request"})
    if not isinstance(user_id, str) or not 0 < len(user_id) <= 64:
        return _answer(start_response, "400 Bad Request", {"error": "invalid_request"})
    engine, limits = _engine_and_limits()
    with committed(engine) as conn:
        issued = issue(conn, limits, user_id, utcnow())
    if issued.already_live:
        return _answer(start_response, "409 Conflict", {"error": "token_already_issued"})
    # As the service's waiting_queue.issue_token: settle after a request that saw room.
    ran = list(settle(lambda: committed(engine), limits, utcnow)) if issued.saw_room else []
    status, oldest = settled(issued, ran[-1] if ran else None)
    place = position(issued.token_id, status, oldest)
    body = {"tokenValue": issued.token, "status": status, "position": place}
    return _answer(start_response, "201 Created", body)


def gunicorn_overrides(overrides: Mapping[str, str]) -> dict[str, str]:
    """BOOKING_WORKERS=4 as GunicornSettings(workers="4")."""
    prefix = "BOOKING_"
    fields = GunicornSettings.model_fields
    return {
        name.removeprefix(prefix).lower(): value
        for name, value in overrides.items()
        if name.startswith(prefix) and name.removeprefix(prefix).lower() in fields
    }


def start_plain(
    settings: StackSettings,
    directory: Path,
    port: int,
    database: str,
    overrides: Mapping[str, str] | None = None,
    code: Path | None = None,
) -> ManagedProcess:
    """The plain form under the service's gunicorn workers and threads, on its own database;
    `overrides` as a service side's (BOOKING_DATABASE_URL's driver, BOOKING_WORKERS, ...),
    `code` a checkout to run it from (an older one, for a before/after in one run)."""
    fresh_database(settings, database)
    overrides = dict(overrides or {})
    url = overrides.pop("BOOKING_DATABASE_URL", database_url(settings, database))
    schema.migrate(BookingSettings(database_url=SecretStr(url)))
    workers = GunicornSettings(**gunicorn_overrides(overrides))
    process = ManagedProcess(directory)
    process.stop()
    process.start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers.workers),
            "--threads",
            str(workers.threads),
            "--keep-alive",
            "5",
            "--bind",
            f"{settings.host}:{port}",
            "--chdir",
            str(code or REPO_ROOT),
            "bench.plain_token:app",
        ],
        env={"BOOKING_DATABASE_URL": url, **overrides},
    )
    return process


def main() -> None:
    """Serve the plain form beside the stack until Ctrl-C, for `soundcheck load run token-spike
    --target URL`: the service's scenario against its own statements with nothing around them."""
    import argparse
    import signal
    import threading

    from bench.side_services import free_port, wait_healthy
    from soundcheck.settings import load_settings

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, help="default: a free one")
    args = parser.parse_args()
    settings = load_settings()
    port = args.port or free_port(settings.host)
    database = f"{settings.mariadb_database}_bench_plain"
    process = start_plain(settings, settings.home / "bench" / "plain", port, database)
    url = f"http://{settings.host}:{port}"
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        wait_healthy("plain form", url, process)
        print(f"plain form: {url} (database {database}); Ctrl-C stops it", flush=True)
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        process.stop()


if __name__ == "__main__":
    main()
