"""What clients may send, as pydantic models: each problem becomes a 400 naming the field and the
rule. The same models are the request schemas of the OpenAPI document (`booking_app/openapi.py`),
so every pattern and limit is written once, here."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from flask import Request
from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from booking_app.errors import InvalidRequest

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")
MAX_BIGINT = 2**63 - 1
MAX_POINTS_CHARGE = 100_000_000
MAX_SEAT_NO = 100_000
MAX_VENUE_LENGTH = 200
MAX_RANKING_LIMIT = 100
DEFAULT_RANKING_LIMIT = 10
# ASCII digits only: str.isdigit() and int() also take '²' or '١٢', which are no numbers here.
WHOLE_NUMBER = re.compile(r"[0-9]{1,19}")
YEAR_OUT_OF_RANGE = "year_out_of_range"

Model = TypeVar("Model", bound=BaseModel)
# camelCase on the wire, and as the schema's titles (pydantic would write `Seatno`).
API_FIELDS = ConfigDict(
    alias_generator=to_camel, field_title_generator=lambda name, _: to_camel(name), frozen=True
)


class Rule:
    """A field's type and constraints (its pydantic core schema, hence its JSON schema) and the
    sentence a client gets when a value breaks them."""

    def sentence(self, field: str, error_type: str) -> str:
        raise NotImplementedError

    def value_schema(self) -> CoreSchema:
        raise NotImplementedError

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return self.value_schema()


@dataclass(frozen=True)
class Identifier(Rule):
    def sentence(self, field: str, error_type: str) -> str:
        return f"`{field}` must be a string of 1 to 64 letters, digits or _ . : @ -."

    def value_schema(self) -> CoreSchema:
        return core_schema.str_schema(pattern=ID_PATTERN.pattern, strict=True)


@dataclass(frozen=True)
class WholeNumber(Rule):
    low: int
    high: int

    def sentence(self, field: str, error_type: str) -> str:
        return f"`{field}` must be a whole number from {self.low} to {self.high}."

    def value_schema(self) -> CoreSchema:
        # Strict: JSON true, 1.0 or "1" are no whole numbers.
        return core_schema.int_schema(ge=self.low, le=self.high, strict=True)


@dataclass(frozen=True)
class Text(Rule):
    """Non-empty once stripped (the stripped text is kept), at most `max_length` as sent."""

    max_length: int

    def sentence(self, field: str, error_type: str) -> str:
        return f"`{field}` must be a non-empty string of at most {self.max_length} characters."

    def value_schema(self) -> CoreSchema:
        return core_schema.no_info_after_validator_function(
            _stripped,
            core_schema.str_schema(min_length=1, max_length=self.max_length, strict=True),
        )


@dataclass(frozen=True)
class Moment(Rule):
    """An ISO 8601 date-time between the years 1970 and 9998, kept as naive UTC (as stored)."""

    def sentence(self, field: str, error_type: str) -> str:
        if error_type == YEAR_OUT_OF_RANGE:
            return f"`{field}` must be a date between 1970 and 9998."
        return f"`{field}` must be an ISO 8601 date-time such as 2027-03-01T19:00:00Z."

    def value_schema(self) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(_moment)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time", "example": "2027-03-01T19:00:00Z"}


def _stripped(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "blank text")
    return value.strip()


def _moment(value: Any) -> datetime:
    if not isinstance(value, str):
        raise PydanticCustomError("not_a_string", "not a string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PydanticCustomError("not_iso_8601", "not ISO 8601") from None
    if not 1970 <= moment.year <= 9998:
        raise PydanticCustomError(YEAR_OUT_OF_RANGE, "year out of range")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


ResourceId = Annotated[str, Identifier()]
BigintId = Annotated[int, WholeNumber(1, MAX_BIGINT)]
PointsAmount = Annotated[int, WholeNumber(1, MAX_POINTS_CHARGE)]


class RequestModel(BaseModel):
    """A request body or query: camelCase names on the wire, unknown names ignored."""

    model_config = API_FIELDS


class TokenRequest(RequestModel):
    user_id: ResourceId


class ReservationRequest(RequestModel):
    user_id: ResourceId
    schedule_id: ResourceId
    seat_no: Annotated[int, WholeNumber(1, MAX_SEAT_NO)]


class ChargeRequest(RequestModel):
    amount: PointsAmount


class PaymentRequest(RequestModel):
    reservation_id: BigintId
    amount: PointsAmount


class ScheduleChange(RequestModel):
    """At least one of the two (the handler says so: the schema cannot)."""

    venue: Annotated[str | None, Text(MAX_VENUE_LENGTH)] = None
    starts_at: Annotated[datetime | None, Moment()] = None


class SeatPriceChange(RequestModel):
    price: PointsAmount


class RankingQuery(RequestModel):
    limit: Annotated[int, WholeNumber(1, MAX_RANKING_LIMIT)] = DEFAULT_RANKING_LIMIT


def json_object(request: Request) -> dict[str, Any]:
    return json_object_of(request.get_data())


def json_object_of(data: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 saying why it is none (read as Flask's
    `get_json(force=True)` reads it: any content type, UTF-8/16/32)."""
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    except RecursionError:
        # A body like 100,000 `[` exhausts the parser's depth.
        raise InvalidRequest(
            "The request body nests arrays or objects too deeply. Send a flat JSON object."
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


def parse(model: type[Model], values: Mapping[str, Any]) -> Model:
    """`values` as `model`, or a 400 whose sentence names the first field that breaks its rule."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0])
        field = next(f for key, f in model.model_fields.items() if (f.alias or key) == name)
        rule = next(m for m in field.metadata if isinstance(m, Rule))
        raise InvalidRequest(rule.sentence(name, first["type"])) from None


def body(request: Request, model: type[Model]) -> Model:
    return parse(model, json_object(request))


def query(request: Request, model: type[Model]) -> Model:
    """A query string holds text: ASCII whole numbers become numbers, the rest stays text (which
    no number field takes)."""
    values = {
        name: int(raw) if WHOLE_NUMBER.fullmatch(raw) else raw for name, raw in request.args.items()
    }
    return parse(model, values)
