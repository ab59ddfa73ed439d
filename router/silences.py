"""Alertmanager's API v2 silences, as incident pages use them: create one matching an alert's
labels exactly, expire one, and end those meant to last "until resolved"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from router.settings import RouterSettings


class AlertmanagerFailed(Exception):
    """Alertmanager did not do what was asked; the message says what it answered."""


def matchers_of(labels: dict[str, str]) -> list[dict[str, object]]:
    """One exact matcher per label: values are matched as typed, nothing to regex-escape."""
    return [
        {"name": name, "value": value, "isRegex": False, "isEqual": True}
        for name, value in sorted(labels.items())
    ]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def create_silence(
    settings: RouterSettings, labels: dict[str, str], hours: float, actor: str, comment: str
) -> tuple[str, str]:
    """The new silence's id and when it ends."""
    now = datetime.now(UTC)
    ends = now + timedelta(hours=hours)
    body = {
        "matchers": matchers_of(labels),
        "startsAt": _iso(now),
        "endsAt": _iso(ends),
        "createdBy": actor,
        "comment": comment,
    }
    try:
        answer = httpx.post(
            f"{settings.alertmanager_url.rstrip('/')}/api/v2/silences",
            json=body,
            timeout=settings.target_timeout_seconds,
        )
    except httpx.HTTPError as error:
        raise AlertmanagerFailed(
            f"Alertmanager at {settings.alertmanager_url} did not answer ({error})."
        ) from error
    if answer.status_code != 200:
        raise AlertmanagerFailed(
            f"Alertmanager refused the silence ({answer.status_code}): {answer.text[:300]}"
        )
    return str(answer.json()["silenceID"]), _iso(ends)


def expire_silence(settings: RouterSettings, silence_id: str) -> None:
    """Expire it; an already expired one is fine (Alertmanager answers 200), and so is one it
    no longer knows (0.25 answers 500 for an unknown id: checked with a GET, which says 404)."""
    base = settings.alertmanager_url.rstrip("/")
    try:
        answer = httpx.delete(
            f"{base}/api/v2/silence/{silence_id}", timeout=settings.target_timeout_seconds
        )
        if answer.status_code == 200:
            return
        known = httpx.get(f"{base}/api/v2/silence/{silence_id}", timeout=5)
    except httpx.HTTPError as error:
        raise AlertmanagerFailed(
            f"Alertmanager at {settings.alertmanager_url} did not answer ({error})."
        ) from error
    if known.status_code == 404:
        return
    raise AlertmanagerFailed(
        f"Alertmanager did not expire silence {silence_id} ({answer.status_code}): "
        f"{answer.text[:300]}"
    )
