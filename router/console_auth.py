"""Who may act from the incident pages: a console login (its own user and password, never the
webhook token), kept in a signed cookie, and each action's form checked against cross-site use.

The cookie is `SameSite=Lax`, so a link from Slack or an e-mail (a cross-site GET) still arrives
logged in and shows the confirmation page, while a cross-site POST carries no cookie. Each form
also carries a token derived from the session, and a POST whose `Origin` is not the router's own
is refused: three locks, each enough alone against a forged form.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from router.settings import RouterSettings

SESSION_COOKIE = "soundcheck_console"
USER_NAME_LIMIT = 100


class NotAllowed(Exception):
    """The request may not act; the message says why and what to do."""


def _key(settings: RouterSettings) -> bytes | None:
    """The signing key, derived from the console password: changing it logs everyone out."""
    if settings.console_password is None:
        return None
    secret = settings.console_password.get_secret_value().encode()
    return hashlib.sha256(b"soundcheck-console-session\x00" + secret).digest()


def _serializer(key: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt="soundcheck-console")


def console_enabled(settings: RouterSettings) -> bool:
    return settings.console_password is not None


def check_login(settings: RouterSettings, user: str, password: str) -> bool:
    """Constant-time comparison of both, so neither leaks through timing."""
    if settings.console_password is None:
        return False
    same_user = hmac.compare_digest(user.encode(), settings.console_user.encode())
    expected = settings.console_password.get_secret_value().encode()
    return hmac.compare_digest(password.encode(), expected) and same_user


def session_cookie(settings: RouterSettings, user: str) -> str:
    key = _key(settings)
    if key is None:
        raise NotAllowed("The console is off: set SOUNDCHECK_ROUTER_CONSOLE_PASSWORD.")
    return _serializer(key).dumps({"user": user[:USER_NAME_LIMIT]})


def current_user(request: Request, settings: RouterSettings) -> str | None:
    """The logged-in user, or None (no cookie, a forged or expired one, console off)."""
    key = _key(settings)
    cookie = request.cookies.get(SESSION_COOKIE)
    if key is None or not cookie:
        return None
    try:
        data = _serializer(key).loads(cookie, max_age=int(settings.console_session_hours * 3600))
    except BadSignature:
        return None
    user = data.get("user") if isinstance(data, dict) else None
    return str(user) if user else None


def csrf_token(request: Request, settings: RouterSettings) -> str:
    """The form token of this session (empty when not logged in)."""
    key = _key(settings)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if key is None or not cookie:
        return ""
    return hmac.new(key, b"csrf\x00" + cookie.encode(), hashlib.sha256).hexdigest()


def own_origin(request: Request, settings: RouterSettings) -> set[str]:
    """The origins the router's own pages post from: its public URL and the address asked."""
    origins = {f"{request.url.scheme}://{request.url.netloc}"}
    if settings.public_url:
        parts = urlsplit(settings.public_url)
        origins.add(f"{parts.scheme}://{parts.netloc}")
    return origins


def require_action_allowed(request: Request, settings: RouterSettings, token: str) -> str:
    """The user a form POST acts as, after every check; NotAllowed says which one failed."""
    if not console_enabled(settings):
        raise NotAllowed(
            "Actions are off: the router has no console password "
            "(set SOUNDCHECK_ROUTER_CONSOLE_PASSWORD)."
        )
    origin = request.headers.get("origin")
    if origin is not None and origin not in own_origin(request, settings):
        raise NotAllowed("This form was sent from another site; open the incident page and retry.")
    user = current_user(request, settings)
    if user is None:
        raise NotAllowed("Log in first (your session is missing or has expired).")
    expected = csrf_token(request, settings)
    if not token or not hmac.compare_digest(token, expected):
        raise NotAllowed("This form is stale or forged; reload the incident page and retry.")
    return user
