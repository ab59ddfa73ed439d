"""Keeps tokens, passwords and routing keys out of every log record (SPEC O3).

Three layers, because one is never enough: field names that mean "secret" have their values
replaced; patterns that carry a secret in free text (`password=…`, `Bearer …`, `user:pass@` in
URLs) are masked; and exact secret values the process knows (registered by the service, or found
in its environment at start) are replaced wherever they appear, even in exception text.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

MASK = "[REDACTED]"

_SECRET_NAME = re.compile(
    r"(password|passwd|secret|authori[sz]ation|api[_.-]?key|apikey|routing[_.-]?key|routingkey"
    r"|cookie|credential|private[_.-]?key|(^|[_.-])token([_.-]?value)?$|tokenvalue$|token$"
    r"|x-queue-token|session[_.-]?id)",
    re.IGNORECASE,
)

_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer abc / Basic abc
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}", re.IGNORECASE), r"\1 " + MASK),
    # scheme://user:password@host
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/\s@]*:)[^@/\s]+@"), r"\1" + MASK + "@"),
    # password=..., "token": "...", routing_key: ..., X-Queue-Token: ...
    (
        re.compile(
            r"((?:password|passwd|pwd|secret|token|tokenValue|api[_-]?key|routing[_-]?key"
            r"|authorization|x-queue-token|private[_-]?key|access[_-]?key|signature)"
            r"[\"']?\s*[:=]\s*[\"']?)"
            r"([^\s\"'&,;}]+)",
            re.IGNORECASE,
        ),
        r"\1" + MASK,
    ),
)

# One cheap scan decides whether the patterns above can match at all (most lines: no).
_MIGHT_CARRY_SECRET = re.compile(
    r"bearer|basic|://|pass|pwd|secret|token|key|authori|signature", re.IGNORECASE
)

# Query parameters whose value is masked in URLs kept in spans (`?token=`, `?X-Amz-Signature=`,
# `?sig=`, ...): broader than field names, since a URL's parameters are chosen by the caller.
_SECRET_QUERY_NAME = re.compile(
    r"token|key|secret|pass|pwd|signature|^sig$|auth|credential|session|cookie|jwt",
    re.IGNORECASE,
)

_MIN_SECRET_LENGTH = 4
_known_lock = threading.Lock()
_known_values: set[str] = set()
_known_pattern: re.Pattern[str] | None = None
# Short texts already redacted against the secrets known now (a log line's message and fields
# repeat: "POST /queue/token answered 201" ran the three patterns for every request). Replaced,
# not cleared, when a secret is registered, so that no result from before it is ever reused.
_redacted_texts: dict[str, str] = {}
_KEPT_TEXT_LENGTH = 256
_MAX_KEPT_TEXTS = 4096


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True for field names whose value must never be logged (`password`, `tokenValue`, ...)."""
    return bool(_SECRET_NAME.search(name))


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it appears in a log record from now on."""
    global _known_pattern, _redacted_texts
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _known_lock:
        if value in _known_values:
            return
        _known_values.add(value)
        ordered = sorted(_known_values, key=len, reverse=True)
        _known_pattern = re.compile("|".join(re.escape(item) for item in ordered))
        _redacted_texts = {}


def register_secrets_from_environment(environ: Mapping[str, str] | None = None) -> None:
    """Register the secrets a process was started with (env vars named like secrets,
    the contents of `*_TOKEN_FILE` / `*_PASSWORD_FILE`, and passwords inside URLs)."""
    environ = os.environ if environ is None else environ
    for name, value in environ.items():
        for password in _URL_PASSWORD.findall(value):
            register_secret(password)
        if not is_secret_name(name.removesuffix("_FILE")):
            continue
        if name.endswith("_FILE"):
            register_secret(_read_small_file(value))
        else:
            register_secret(value)


_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^:/\s@]*:([^@/\s]+)@")


def _read_small_file(path: str) -> str | None:
    try:
        file = Path(path)
        if file.is_file() and file.stat().st_size <= 64 * 1024:
            return file.read_text(errors="replace").strip()
    except OSError:
        return None
    return None


def redact_text(text: str) -> str:
    """Free text with secret-carrying patterns and known secret values masked."""
    kept = _redacted_texts  # read before the pattern: register_secret replaces it after
    redacted = kept.get(text)
    if redacted is None:
        redacted = _redact_text(text)
        if len(text) <= _KEPT_TEXT_LENGTH:
            if len(kept) >= _MAX_KEPT_TEXTS:
                kept.clear()
            kept[text] = redacted
    return redacted


def _redact_text(text: str) -> str:
    if _MIGHT_CARRY_SECRET.search(text):
        for pattern, replacement in _TEXT_PATTERNS:
            text = pattern.sub(replacement, text)
    known = _known_pattern
    if known is not None:
        text = known.sub(MASK, text)
    return text


def redact_url(url: str, query_only: bool = False) -> str:
    """A URL (or `path?query`, or with `query_only` a bare query) with the value of every
    secret-named query parameter masked, then free-text redaction (known secrets, `user:pass@`).
    Parameter names and other values are kept: they are what a reader of a trace looks for."""
    head, mark, query = ("", "", url) if query_only else url.partition("?")
    if query:
        pairs = query.split("&")
        for position, pair in enumerate(pairs):
            name, equals, _ = pair.partition("=")
            if equals and _SECRET_QUERY_NAME.search(unquote_plus(name)):
                pairs[position] = f"{name}={MASK}"
        url = head + mark + "&".join(pairs)
    return redact_text(url)


def redact_value(name: str, value: Any) -> Any:
    """A field's value made safe: masked whole when its name says secret, else cleaned."""
    if is_secret_name(name):
        return MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {str(key): redact_value(str(key), item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(name, item) for item in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact_text(str(value))
