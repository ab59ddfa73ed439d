"""`python -m booking_app COMMAND`: serve | worker | metrics | migrate | seed."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from booking_app.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="booking_app", description=__doc__)
    parser.add_argument("command", choices=["serve", "worker", "metrics", "migrate", "seed"])
    args = parser.parse_args(argv)
    if args.command == "metrics":
        from booking_app.metrics_process import serve_booking_metrics

        serve_booking_metrics()
        return 0
    settings = load_settings()
    if args.command == "worker":
        from booking_app.worker import run_worker

        run_worker()
        return 0
    from booking_app import schema

    schema.wait_for_database(settings)
    schema.migrate(settings)
    if args.command == "migrate":
        return 0
    seeded = schema.seed_if_empty(settings)
    if args.command == "seed":
        print("seeded" if seeded else "the database already has data; nothing seeded")
        return 0
    # serve: the schema is current and the data seeded; gunicorn takes over this process (its
    # master empties the multiprocess metrics directory when it starts: gunicorn_hooks.py).
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    argv = [gunicorn, "--config", "python:booking_app.gunicorn_conf"]
    os.execv(gunicorn, argv)  # noqa: S606 - an argv list, no shell
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
