"""Logging in to and out of the console that acts on incidents (`router.console_auth`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from router.console_auth import (
    SESSION_COOKIE,
    check_login,
    console_enabled,
    own_origin,
    session_cookie,
)
from router.incident_routes import form_of
from router.pages import message_page, render
from router.routes import PartsDep

console = APIRouter(include_in_schema=False)


def local_path(wanted: str) -> str:
    """Where to go after logging in: a path of this router only (no open redirect)."""
    if wanted.startswith("/") and not wanted.startswith("//") and "\\" not in wanted:
        return wanted[:2000]
    return "/incidents"


@console.get("/login")
def login_page(
    parts: PartsDep, next: Annotated[str, Query(max_length=2000)] = "/incidents"
) -> Response:
    return render(
        "login.html",
        enabled=console_enabled(parts.settings),
        next=local_path(next),
        user="",
        problem="",
    )


@console.post("/login")
async def login(request: Request, parts: PartsDep) -> Response:
    form = await form_of(request)
    origin = request.headers.get("origin")
    if origin is not None and origin not in own_origin(request, parts.settings):
        return message_page("Not allowed", "This login form was sent from another site.", 403)
    user, password = form.get("user", "")[:100], form.get("password", "")
    if not check_login(parts.settings, user, password):
        return render(
            "login.html",
            401,
            enabled=console_enabled(parts.settings),
            next=local_path(form.get("next", "")),
            user=user,
            problem="Wrong user or password.",
        )
    answer = RedirectResponse(local_path(form.get("next", "")), status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        session_cookie(parts.settings, user),
        max_age=int(parts.settings.console_session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=parts.settings.own_url().startswith("https://"),
    )
    return answer


@console.post("/logout")
def logout() -> Response:
    answer = RedirectResponse("/incidents", status_code=303)
    answer.delete_cookie(SESSION_COOKIE)
    return answer
