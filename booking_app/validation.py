"""Checking what clients send: each problem becomes a 400 naming the field and the rule."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Request

from booking_app.errors import InvalidRequest

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")
MAX_BIGINT = 2**63 - 1
# ASCII digits only: str.isdigit() and int() also take '²' or '١٢', which are no numbers here.
WHOLE_NUMBER = re.compile(r"[0-9]{1,19}")


def json_object(request: Request) -> dict[str, Any]:
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:
        # `silent` covers only ValueError; a body like 100,000 `[` exhausts the parser's depth.
        raise InvalidRequest(
            "The request body nests arrays or objects too deeply. Send a flat JSON object."
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


def identifier(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise InvalidRequest(f"`{field}` must be a string of 1 to 64 letters, digits or _ . : @ -.")
    return value


def integer(body: dict[str, Any], field: str, low: int, high: int) -> int:
    value = body.get(field)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(f"`{field}` must be a whole number from {low} to {high}.")
    return value


def query_integer(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number from the query string (`default` when absent)."""
    raw = args.get(name)
    if raw is None:
        return default
    if not WHOLE_NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidRequest(f"`{name}` must be a whole number from {low} to {high}.")
    return int(raw)


def optional_text(body: dict[str, Any], field: str, max_length: int) -> str | None:
    if field not in body:
        return None
    value = body[field]
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidRequest(
            f"`{field}` must be a non-empty string of at most {max_length} characters."
        )
    return value.strip()


def optional_datetime(body: dict[str, Any], field: str) -> datetime | None:
    if field not in body:
        return None
    value = body[field]
    try:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(
            f"`{field}` must be an ISO 8601 date-time such as 2027-03-01T19:00:00Z."
        ) from None
    if not 1970 <= moment.year <= 9998:
        raise InvalidRequest(f"`{field}` must be a date between 1970 and 9998.")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
