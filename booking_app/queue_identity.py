"""Who calls (B12): a queue token is its user's identity; each check answers 403 with what to do
(no token, an unknown or expired one, another user's, one not ACTIVE yet).
"""

from __future__ import annotations

from booking_app.errors import Forbidden, NotFound, NotYourToken
from booking_app.queue_statements import ACTIVE, EXPIRED, WAITING
from booking_app.services import Services
from booking_app.waiting_queue import TokenView, token_status


def identify(svc: Services, token: str | None, live: bool = True) -> TokenView:
    """Who calls: the holder of the token in X-Queue-Token, or a 403 that says what to do.

    `live` (the default) refuses a token that has expired; a payment's retry passes False,
    since the first payment expired the token it was made with."""
    if not token:
        raise Forbidden(
            "This API needs your queue token in the X-Queue-Token header: it says who you are. "
            "Get one with POST /queue/token."
        )
    try:
        view = token_status(svc, token)
    except NotFound:
        raise Forbidden(
            "The X-Queue-Token header holds an unknown token. Get one with POST /queue/token."
        ) from None
    if live and view.status == EXPIRED:
        raise Forbidden("Your queue token has expired. Get a new one with POST /queue/token.")
    return view


def ensure_owner(view: TokenView, user_id: str, what: str) -> None:
    """403 unless the token is `user_id`'s own (what: the thing asked for, for the message)."""
    if view.user_id != user_id:
        raise NotYourToken(
            f"The queue token in X-Queue-Token belongs to another user: {what} needs "
            "the owner's own token."
        )


def require_user(svc: Services, token: str | None, user_id: str, what: str) -> TokenView:
    """The live token of `user_id` (WAITING or ACTIVE), or a 403."""
    view = identify(svc, token)
    ensure_owner(view, user_id, what)
    return view


def require_active(svc: Services, token: str | None, user_id: str, what: str) -> TokenView:
    """The ACTIVE token of `user_id`, or a 403 that says what to do."""
    view = identify(svc, token, live=False)
    ensure_owner(view, user_id, what)
    ensure_active(view)
    return view


def ensure_active(view: TokenView) -> None:
    if view.status != ACTIVE:
        raise Forbidden(
            f"Your queue token is {view.status}, not ACTIVE"
            + (f" (position {view.position})" if view.status == WAITING else "")
            + ". Wait for it to become ACTIVE (GET /queue/status), or get a new one."
        )
