"""Nothing lost: no seat sold twice and every outbox event delivered (the traffic scenario's own
checks, asked of MariaDB), every page triggered once and resolved once (the sandbox)."""

from __future__ import annotations

from typing import Any


def seats_sold_twice(client: dict[str, Any]) -> int | None:
    seats = client.get("checks", {}).get("seats")
    return None if seats is None else int(seats["seats_sold_twice"])


def outbox_undelivered(client: dict[str, Any]) -> dict[str, Any] | None:
    """Outbox rows the relay never got Kafka to acknowledge, and payment events the sink stored
    a different number of times than they were written (lost or duplicated)."""
    kafka = client.get("checks", {}).get("kafka")
    if kafka is None:
        return None
    return {
        "written": kafka["written"],
        "published": kafka["published"],
        "unpublished": kafka["written"] - kafka["published"],
        "payments_written": kafka["payments_written"],
        "payments_sunk": kafka["payments_sunk"],
        "payments_not_sunk_once": abs(kafka["payments_written"] - kafka["payments_sunk"]),
    }


def page_counts(pages: list[dict[str, Any]], alerts: tuple[str, ...]) -> dict[str, dict[str, int]]:
    """Per expected alert: triggers and resolves received by PagerDuty (the sandbox)."""
    counts = {name: {"triggers": 0, "resolves": 0} for name in alerts}
    for page in pages:
        if page["alertname"] in counts:
            counts[page["alertname"]][page["kind"] + "s"] += 1
    return counts


def loss_figures(
    client: dict[str, Any] | None, pages: list[dict[str, Any]], alerts: tuple[str, ...]
) -> dict[str, Any]:
    return {
        "seats_sold_twice": None if client is None else seats_sold_twice(client),
        "outbox": None if client is None else outbox_undelivered(client),
        "pages": page_counts(pages, alerts),
    }
