"""What an attempt's outcome changes: a pure function of the delivery, the outcome, the retry
policy and the time, so the worker writes the rows first and counts and logs only once committed.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from router.outcome import Delivered, GiveUp, Outcome
from router.store.tables import DEAD, DELIVERED, GIVEN_UP, PENDING

# Draws a delay between two bounds (random.uniform; a test passes a fixed one).
Jitter = Callable[[float, float], float]


@dataclass(frozen=True)
class DeliveryFacts:
    """What deciding an outcome needs to know about a delivery, as the store has it."""

    id: int
    target: str
    destination: str
    identity: str
    action: str
    attempts: int
    created_at: float
    accepted_at: float
    next_attempt_at: float


@dataclass(frozen=True)
class RetryPolicy:
    backoff_initial_seconds: float
    backoff_max_seconds: float
    dead_letter_after_seconds: float  # from when the delivery was planned (or replayed)


@dataclass(frozen=True)
class Settled:
    """A delivery's columns after an outcome; the lease and the in-flight mark are dropped."""

    id: int
    state: str
    finished_at: float | None
    last_error: str
    next_attempt_at: float


@dataclass(frozen=True)
class TargetRefRow:
    """What a target gave back for a thread (Slack channel + ts, Jira key)."""

    target: str
    destination: str
    identity: str
    ref: str  # JSON
    updated_at: float


@dataclass(frozen=True)
class Counted:
    """One `router_deliveries_total` increment, with the delivery latency when it was delivered."""

    target: str
    result: str  # delivered | retry | given_up | dead
    latency_seconds: float | None = None


@dataclass(frozen=True)
class LogNote:
    level: int
    event: str  # goes to `event.action`
    fields: dict[str, Any]


@dataclass
class Decision:
    settled: list[Settled]
    refs: list[TargetRefRow]
    counted: list[Counted]
    notes: list[LogNote]


def backoff_seconds(
    attempts: int, initial: float, maximum: float, jitter: Jitter = random.uniform
) -> float:
    """Exponential backoff with full jitter, so many failed deliveries do not retry in step."""
    ceiling = min(maximum, initial * (2 ** max(0, attempts - 1)))
    return jitter(ceiling / 2, ceiling)


def decide(
    finished: Iterable[tuple[DeliveryFacts, Outcome]],
    policy: RetryPolicy,
    now: float,
    jitter: Jitter = random.uniform,
) -> Decision:
    """For each outcome: the delivery's new columns, what the target gave back, the count to
    record and the log line to write once that is committed."""
    decision = Decision([], [], [], [])
    for facts, outcome in finished:
        _decide_one(decision, facts, outcome, policy, now, jitter)
    return decision


def _decide_one(
    decision: Decision,
    facts: DeliveryFacts,
    outcome: Outcome,
    policy: RetryPolicy,
    now: float,
    jitter: Jitter,
) -> None:
    fields: dict[str, Any] = {
        "delivery_id": facts.id,
        "target": facts.target,
        "action": facts.action,
        "attempts": facts.attempts,
    }
    if isinstance(outcome, Delivered):
        state, level, event, why = DELIVERED, logging.INFO, "delivery.delivered", outcome.note
        decision.counted.append(Counted(facts.target, "delivered", now - facts.accepted_at))
        if outcome.ref:
            decision.refs.append(
                TargetRefRow(
                    facts.target, facts.destination, facts.identity, json.dumps(outcome.ref), now
                )
            )
    elif isinstance(outcome, GiveUp):
        state, level, event, why = GIVEN_UP, logging.WARNING, "delivery.given_up", outcome.why
        decision.counted.append(Counted(facts.target, "given_up"))
    else:
        delay = backoff_seconds(
            facts.attempts, policy.backoff_initial_seconds, policy.backoff_max_seconds, jitter
        )
        if outcome.after_seconds is not None:
            delay = max(outcome.after_seconds, 0.0)
        why = outcome.why
        if now + delay - facts.created_at > policy.dead_letter_after_seconds:
            state, level, event = DEAD, logging.ERROR, "delivery.dead_lettered"
            decision.counted.append(Counted(facts.target, "dead"))
        else:
            decision.settled.append(Settled(facts.id, PENDING, None, why, now + delay))
            decision.counted.append(Counted(facts.target, "retry"))
            fields |= {"reason": why, "delay_seconds": round(delay, 2)}
            decision.notes.append(LogNote(logging.INFO, "delivery.retry_later", fields))
            return
    decision.settled.append(Settled(facts.id, state, now, why, facts.next_attempt_at))
    decision.notes.append(LogNote(level, event, fields | {"reason": why}))
