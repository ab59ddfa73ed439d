"""Errors the router answers: routes raise `Problem`, and one handler turns it into the body every
error has (a sentence saying what is wrong and what to do, never a stack trace)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class Problem(Exception):
    """A 4xx/5xx answer: `detail` is the sentence, `extra` more fields of the body."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}
        if status == 401:
            self.headers["WWW-Authenticate"] = 'Bearer realm="soundcheck-router"'
        elif status == 503:
            self.headers["Retry-After"] = "5"


def problem_answer(_request: Request, problem: Problem) -> Response:
    return JSONResponse(
        {"detail": problem.detail, **problem.extra},
        status_code=problem.status,
        headers=problem.headers or None,
    )


def from_starlette(request: Request, error: StarletteHTTPException) -> Response:
    """Starlette's own answers (no such path, wrong method) as sentences; a 405 keeps the
    `Allow` header Starlette puts on it, so a client learns which methods the path takes."""
    headers = dict(error.headers or {})
    if error.status_code == 405:
        allowed = headers.setdefault("Allow", "")
        detail = f"This path does not take that method; it answers {allowed or 'nothing'}."
    elif error.status_code == 404:
        detail = "There is nothing at this path; the API is described at /docs."
    else:
        detail = str(error.detail)
    problem = Problem(error.status_code, detail)
    problem.headers = headers
    return problem_answer(request, problem)


def unexpected(request: Request, error: Exception) -> Response:
    log.error(
        "The router failed on a request; answered 500",
        exc_info=error,
        extra={"event": "router.unexpected_error"},
    )
    return problem_answer(
        request, Problem(500, "The router failed on this request; its log says why.")
    )


def answer_problems(app: FastAPI) -> None:
    app.add_exception_handler(Problem, problem_answer)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, from_starlette)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected)
