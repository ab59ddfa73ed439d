"""A small Flask app instrumented exactly as a service is, served by real gunicorn in the tests.

It touches the real MariaDB (SQLAlchemy) and Redis of the stack, logs like the booking service,
and is configured only through environment variables (set by the test).
"""

from __future__ import annotations

import logging
import os
import time

import redis
import sqlalchemy
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

from booking_app import metrics as booking_metrics
from instrumentation.logs import configure_logging
from instrumentation.tracing import configure_tracing, instrument_sqlalchemy
from instrumentation.wsgi import instrument_flask

SERVICE = "instrumented-test-app"
configure_logging(SERVICE)
configure_tracing(SERVICE)
log = logging.getLogger("instrumented_app")

engine = sqlalchemy.create_engine(os.environ["TEST_DATABASE_URL"], pool_size=2, max_overflow=0)
instrument_sqlalchemy(engine)
store = redis.Redis(host="127.0.0.1", port=int(os.environ["TEST_REDIS_PORT"]))
WORK_SECONDS = float(os.environ.get("TEST_WORK_SECONDS", "0"))
EXTRA_LOG_LINES = int(os.environ.get("TEST_EXTRA_LOG_LINES", "0"))
booking_metrics.db_pool_size(2)  # per worker: the exposed value sums live workers

app = Flask(SERVICE)


@app.get("/work")
def work() -> ResponseReturnValue:
    with engine.connect() as connection:
        answer = connection.execute(sqlalchemy.text("SELECT 1")).scalar_one()
    hits = store.incr("instrumentation-test:hits")
    log.info("work done", extra={"event": "work.done", "answer": answer, "hits": hits})
    return jsonify(pid=os.getpid(), answer=answer)


@app.get("/pid")
def pid() -> ResponseReturnValue:
    if WORK_SECONDS:
        time.sleep(WORK_SECONDS)  # stands for the I/O a real endpoint waits on
    for number in range(EXTRA_LOG_LINES):
        log.info("step %d", number, extra={"event": "test.step"})
    return jsonify(pid=os.getpid())


@app.get("/login")
def login() -> ResponseReturnValue:
    log.info("login password=%s", os.environ["TEST_SECRET_PASSWORD"])
    log.info("token issued", extra={"tokenValue": os.environ["TEST_SECRET_PASSWORD"]})
    log.warning("router token is %s", os.environ["SOUNDCHECK_ROUTER_TOKEN"])
    return jsonify(ok=True)


instrument_flask(app, SERVICE, service_metrics=booking_metrics.BOOKING_METRICS)
