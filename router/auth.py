"""Webhook authentication: a bearer token or basic auth, compared in constant time."""

from __future__ import annotations

import base64
import binascii
import hmac

from router.settings import RouterSettings


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def authorised(header: str | None, settings: RouterSettings) -> bool:
    """True when the Authorization header carries the configured token or user and password."""
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    value = value.strip()
    token = settings.bearer_token()
    if scheme.lower() == "bearer" and token:
        return _same(value, token)
    if scheme.lower() == "basic" and settings.basic_user and settings.basic_password:
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user_ok = _same(user, settings.basic_user)
        password_ok = _same(password, settings.basic_password.get_secret_value())
        return user_ok and password_ok
    return False
