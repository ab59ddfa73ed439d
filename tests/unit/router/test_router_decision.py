"""What an outcome changes, decided without a database: rows to write, counts, log lines."""

from __future__ import annotations

import logging

from router.decision import (
    Counted,
    DeliveryFacts,
    RetryPolicy,
    Settled,
    TargetRefRow,
    decide,
)
from router.outcome import Delivered, GiveUp, RetryLater

NOW = 10_000.0
POLICY = RetryPolicy(
    backoff_initial_seconds=1.0, backoff_max_seconds=300.0, dead_letter_after_seconds=3600.0
)


def highest(low: float, high: float) -> float:
    """A jitter that always draws the top of the range, so delays are known."""
    return high


def facts(
    delivery_id: int = 7,
    action: str = "trigger",
    attempts: int = 1,
    created_at: float = NOW - 60,
    target: str = "slack",
) -> DeliveryFacts:
    return DeliveryFacts(
        id=delivery_id,
        target=target,
        destination="#alerts",
        identity="a1",
        action=action,
        attempts=attempts,
        created_at=created_at,
        accepted_at=created_at,
        next_attempt_at=created_at,
    )


def test_a_delivered_trigger_is_finished_counted_with_its_latency_and_keeps_its_ref() -> None:
    decision = decide([(facts(), Delivered(ref={"ts": "1.2"}, note="posted"))], POLICY, NOW)

    assert decision.settled == [Settled(7, "delivered", NOW, "posted", NOW - 60)]
    assert decision.refs == [TargetRefRow("slack", "#alerts", "a1", '{"ts": "1.2"}', NOW)]
    assert decision.counted == [Counted("slack", "delivered", 60.0)]
    (note,) = decision.notes
    assert (note.level, note.event, note.fields["reason"]) == (
        logging.INFO,
        "delivery.delivered",
        "posted",
    )


def test_a_resolve_delivered_after_its_trigger_leaves_the_threads_ref_alone() -> None:
    decision = decide(
        [
            (facts(1, "trigger"), Delivered(ref={"key": "OPS-1"})),
            (facts(2, "resolve"), Delivered(note="commented")),
        ],
        POLICY,
        NOW,
    )

    assert [s.state for s in decision.settled] == ["delivered", "delivered"]
    assert [ref.ref for ref in decision.refs] == ['{"key": "OPS-1"}']  # the trigger's only
    assert [c.result for c in decision.counted] == ["delivered", "delivered"]


def test_a_give_up_is_finished_with_its_reason_and_counted_as_given_up() -> None:
    decision = decide([(facts(), GiveUp("channel_not_found"))], POLICY, NOW)

    assert decision.settled == [Settled(7, "given_up", NOW, "channel_not_found", NOW - 60)]
    assert decision.refs == []
    assert decision.counted == [Counted("slack", "given_up")]
    assert [(n.level, n.event) for n in decision.notes] == [(logging.WARNING, "delivery.given_up")]


def test_a_retry_waits_the_exponential_backoff_of_its_attempt() -> None:
    decision = decide([(facts(attempts=3), RetryLater("503"))], POLICY, NOW, jitter=highest)

    # Attempt 3: up to 1 s x 2^2; the jitter drew the top.
    assert decision.settled == [Settled(7, "pending", None, "503", NOW + 4.0)]
    assert decision.counted == [Counted("slack", "retry")]
    (note,) = decision.notes
    assert (note.event, note.fields["delay_seconds"]) == ("delivery.retry_later", 4.0)


def test_the_backoff_never_exceeds_its_maximum() -> None:
    decision = decide([(facts(attempts=40), RetryLater("503"))], POLICY, NOW, jitter=highest)

    assert decision.settled[0].next_attempt_at == NOW + POLICY.backoff_max_seconds


def test_a_targets_retry_after_replaces_the_backoff() -> None:
    decision = decide(
        [(facts(attempts=9), RetryLater("429", after_seconds=30.0))], POLICY, NOW, jitter=highest
    )

    assert decision.settled[0].next_attempt_at == NOW + 30.0


def test_a_retry_that_would_fall_past_the_dead_letter_time_is_dead_lettered() -> None:
    old = facts(created_at=NOW - POLICY.dead_letter_after_seconds + 10)
    decision = decide([(old, RetryLater("timeout", after_seconds=11.0))], POLICY, NOW)

    assert decision.settled == [Settled(7, "dead", NOW, "timeout", old.next_attempt_at)]
    assert decision.counted == [Counted("slack", "dead")]
    assert [(n.level, n.event) for n in decision.notes] == [
        (logging.ERROR, "delivery.dead_lettered")
    ]


def test_a_retry_just_inside_the_dead_letter_time_is_retried() -> None:
    old = facts(created_at=NOW - POLICY.dead_letter_after_seconds + 10)
    decision = decide([(old, RetryLater("timeout", after_seconds=9.0))], POLICY, NOW)

    assert [s.state for s in decision.settled] == ["pending"]
    assert decision.counted == [Counted("slack", "retry")]


def test_nothing_finished_decides_nothing() -> None:
    decision = decide([], POLICY, NOW)

    assert (decision.settled, decision.refs, decision.counted, decision.notes) == ([], [], [], [])
