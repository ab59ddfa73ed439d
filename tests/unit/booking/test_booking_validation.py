"""Request validation: each broken rule is one 400 sentence naming the field, as before the
models existed (the messages are part of the API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask import Flask, request

from booking_app.errors import InvalidRequest
from booking_app.validation import (
    PaymentRequest,
    RankingQuery,
    ReservationRequest,
    ScheduleChange,
    parse,
    query,
)

RESERVATION = {"userId": "user_1", "scheduleId": "schedule_1", "seatNo": 3}


def refusal(model: Any, values: dict[str, Any]) -> str:
    with pytest.raises(InvalidRequest) as raised:
        parse(model, values)
    return raised.value.message


def test_a_valid_reservation_parses_with_camel_case_names() -> None:
    parsed = parse(ReservationRequest, {**RESERVATION, "unknown": 1})
    assert (parsed.user_id, parsed.schedule_id, parsed.seat_no) == ("user_1", "schedule_1", 3)


@pytest.mark.parametrize("user_id", [None, "", "a" * 65, "user 1", "user_1\n", 7])
def test_an_identifier_that_breaks_the_pattern_names_the_field(user_id: Any) -> None:
    values = {**RESERVATION, "userId": user_id}
    assert refusal(ReservationRequest, values) == (
        "`userId` must be a string of 1 to 64 letters, digits or _ . : @ -."
    )


def test_a_missing_field_gets_its_rule() -> None:
    assert refusal(ReservationRequest, {"userId": "user_1", "seatNo": 3}).startswith(
        "`scheduleId` must be a string"
    )


@pytest.mark.parametrize("seat_no", [0, 100_001, True, 1.0, "3", None])
def test_a_seat_number_that_is_no_whole_number_in_range_is_refused(seat_no: Any) -> None:
    values = {**RESERVATION, "seatNo": seat_no}
    assert (
        refusal(ReservationRequest, values) == "`seatNo` must be a whole number from 1 to 100000."
    )


def test_the_first_field_in_order_is_named() -> None:
    assert refusal(PaymentRequest, {"reservationId": 0, "amount": 0}).startswith(
        "`reservationId` must be a whole number from 1 to 9223372036854775807"
    )


def test_venue_is_stripped_and_must_not_be_blank_null_or_too_long() -> None:
    assert parse(ScheduleChange, {"venue": "  Hall  "}).venue == "Hall"
    sentence = "`venue` must be a non-empty string of at most 200 characters."
    for venue in ("   ", "", None, "a" * 201, 5):
        assert refusal(ScheduleChange, {"venue": venue}) == sentence


def test_starts_at_is_iso_8601_kept_as_naive_utc() -> None:
    change = parse(ScheduleChange, {"startsAt": "2027-03-01T20:00:00+01:00"})
    assert change.starts_at == datetime(2027, 3, 1, 19, 0)
    assert parse(ScheduleChange, {"startsAt": "2027-03-01T19:00:00Z"}).starts_at == datetime(
        2027, 3, 1, 19, 0
    )


@pytest.mark.parametrize("starts_at", ["tomorrow", 1_700_000_000, None, "2027-13-01T00:00:00"])
def test_starts_at_that_is_no_iso_date_time_is_refused(starts_at: Any) -> None:
    assert refusal(ScheduleChange, {"startsAt": starts_at}) == (
        "`startsAt` must be an ISO 8601 date-time such as 2027-03-01T19:00:00Z."
    )


@pytest.mark.parametrize("starts_at", ["1969-12-31T23:00:00", "9999-01-01T00:00:00"])
def test_starts_at_outside_1970_to_9998_is_refused(starts_at: str) -> None:
    assert refusal(ScheduleChange, {"startsAt": starts_at}) == (
        "`startsAt` must be a date between 1970 and 9998."
    )


def test_an_absent_ranking_limit_is_ten() -> None:
    assert parse(RankingQuery, {}).limit == 10


@pytest.mark.parametrize("limit", ["%C2%B2", "%D9%A1", "%EF%BC%95", "", "0", "101", "+5", " 5"])
def test_a_query_limit_in_anything_but_ascii_digits_from_1_to_100_is_refused(limit: str) -> None:
    sentence = "`limit` must be a whole number from 1 to 100"
    with (
        Flask(__name__).test_request_context(f"/concerts/ranking?limit={limit}"),
        pytest.raises(InvalidRequest, match=sentence),
    ):
        query(request, RankingQuery)


def test_a_query_limit_in_ascii_digits_is_a_number() -> None:
    with Flask(__name__).test_request_context("/concerts/ranking?limit=25"):
        assert query(request, RankingQuery).limit == 25
