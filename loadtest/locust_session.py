"""One virtual user's session on Locust's client (`loadtest.scenario.Session`), and what every
request records in the generator's collector.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from typing import Any

import gevent
from locust import FastHttpUser
from locust.contrib.fasthttp import FastResponse
from locust.exception import StopUser
from locust.user.task import LOCUST_STATE_STOPPING

from loadtest.collector import Collector

collector = Collector()
state: dict[str, Any] = {"plan": None, "prefix": "lt", "step": None}
_user_numbers = itertools.count(1)
_fresh_numbers = itertools.count(1)


class LocustAnswer:
    def __init__(self, response: FastResponse | None) -> None:
        self._response = response
        self.status = int(response.status_code or 0) if response is not None else 0

    def body(self) -> dict[str, Any]:
        try:
            found = json.loads(self._response.text or "{}") if self._response else {}
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    def header(self, name: str) -> str | None:
        if self._response is None or self._response.headers is None:
            return None
        value = self._response.headers.get(name)
        return str(value) if value is not None else None


class LocustSession:
    """`loadtest.scenario.Session` on a FastHttpUser's client."""

    def __init__(self, user: FastHttpUser, params: dict[str, Any], step: int | None = None):
        self.user = user
        self.params = params
        self.user_id = f"{state['prefix']}-{next(_user_numbers)}"
        self.step = step

    def call(
        self,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...],
        name: str | None = None,
        measured: bool = True,
        json: Any = None,
        headers: dict[str, str] | None = None,
        tag: str | None = None,
        require: tuple[str, str] | None = None,
    ) -> LocustAnswer:
        context = {"measured": measured, "tag": tag, "step": self.step}
        with self.user.client.request(
            method,
            path,
            name=name or f"{method} {path}",
            json=json,
            headers=headers,
            catch_response=True,
            context=context,
        ) as response:
            answer = LocustAnswer(response)
            if answer.status == 0:
                # No answer at all: the connection's error is the only account of it.
                error = getattr(response, "error", None)
                response.failure(f"no answer (expected {expect}): {error!r:.200}")
            elif answer.status not in expect:
                response.failure(f"{answer.status} (expected {expect}): {response.text!s:.200}")
            elif require and str(answer.body().get(require[0])) != require[1]:
                response.failure(f"{require[0]} is not {require[1]}: {response.text!s:.200}")
            else:
                response.success()
        return answer

    def sleep(self, seconds: float) -> None:
        if self.user._state == LOCUST_STATE_STOPPING:
            # Asked to leave (ramp-down, the end) while still queueing: leave now, not after
            # the stop timeout (Locust stops a user only while it waits between iterations).
            raise StopUser
        gevent.sleep(seconds)

    def fresh_user_id(self) -> str:
        return f"{state['prefix']}-f{next(_fresh_numbers)}"

    def random(self) -> float:
        return random.random()  # noqa: S311 - seat choice, not security


def on_request(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    context: dict[str, Any] | None = None,
    exception: BaseException | None = None,
    **_: Any,
) -> None:
    context = context or {}
    status = int(getattr(response, "status_code", 0) or 0)
    cache_hit = None
    if request_type == "GET" and response is not None and response.headers is not None:
        cache_hit = response.headers.get("X-Cache-Hit")
    collector.record(
        int(time.time()),
        name,
        bool(context.get("measured", True)),
        status,
        exception is None,
        float(response_time),
        cache_hit=cache_hit,
        tag=context.get("tag"),
        step=context.get("step"),
        error=str(exception) if exception else None,
    )
