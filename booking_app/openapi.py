"""The OpenAPI 3.1 document, served at `/openapi.json`, generated so it cannot drift from the code.

Paths and methods come from the Flask URL map; each handler declares its `Operation` next to its
route (`@documented`); request bodies and query parameters are the pydantic models the handlers
validate with (`validation.py`), answers the models in `answers.py`, both through pydantic's JSON
schema as the router's FastAPI does. A route without an `Operation` is left out, as the
instrumentation's `/metrics` is; a unit test checks that every booking route has one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, TypeAdapter
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from booking_app import validation
from booking_app.answers import Error
from booking_app.errors import ApiError, BodyTooLarge, Unauthorized
from booking_app.validation import BigintId, ResourceId

REF_TEMPLATE = "#/components/schemas/{model}"
# `<converter:name>` in a Flask rule; no converter is a path segment, which names a resource.
RULE_ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")
PATH_SCHEMAS = {
    "": TypeAdapter(ResourceId).json_schema(),
    "int": TypeAdapter(BigintId).json_schema(),
}
ERROR_TEXTS = {
    400: "the request is malformed; the message names the field and the rule",
    401: "the admin token is missing or wrong",
    402: "not enough points",
    403: "no queue token, an unknown or expired one, another user's, or (to reserve or "
    "pay) one that is not ACTIVE",
    404: "no such resource",
    409: "conflict: the seat is taken, the reservation cannot be paid, or the user already "
    "holds a live queue token",
    413: "the request body is larger than the service accepts (BOOKING_MAX_BODY_BYTES, "
    "1 MiB by default)",
    # The gunicorn worker answers these two before Flask sees the request (gunicorn_worker.py).
    414: "the request line (the path and query) is longer than gunicorn's limit_request_line",
    431: "too many header fields, or one too large (gunicorn's limit_request_fields and "
    "limit_request_field_size)",
    503: "a dependency is unavailable or the database pool is exhausted; retry",
}
# What every request may get, whatever its handler: gunicorn refuses it before Flask.
SERVER_REFUSALS = (414, 431)

View = Callable[..., ResponseReturnValue]


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    required: bool = True
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Answer:
    """A successful answer: its status, its body's model and the headers it sets."""

    status: int
    model: type[BaseModel]
    description: str
    headers: tuple[Header, ...] = ()


@dataclass(frozen=True)
class Operation:
    """What a handler takes and answers; the errors are the `ApiError`s its code raises. Hooks
    that run before it add theirs: 413 for a body (body_limit.py), 401 for the admin token."""

    summary: str
    answers: tuple[Answer, ...]
    errors: tuple[type[ApiError], ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: tuple[Header, ...] = ()
    admin: bool = False

    def error_statuses(self) -> set[int]:
        statuses = {error.status for error in self.errors} | set(SERVER_REFUSALS)
        if self.body is not None:
            statuses.add(BodyTooLarge.status)
        if self.admin:
            statuses.add(Unauthorized.status)
        return statuses - {answer.status for answer in self.answers}

    def models(self) -> set[tuple[type[BaseModel], JsonSchemaMode]]:
        models: set[tuple[type[BaseModel], JsonSchemaMode]] = {
            (answer.model, "serialization") for answer in self.answers
        }
        if self.body is not None:
            models.add((self.body, "validation"))
        return models


OPERATIONS: dict[Callable[..., Any], Operation] = {}


def documented(operation: Operation) -> Callable[[View], View]:
    """Attach `operation` to a Flask view (the document reads it through the URL map), and hand
    the view its body and query as `body=` and `query=`, parsed with the very models the
    document shows: a handler cannot validate one shape and document another."""

    def attach(view: View) -> View:
        @functools.wraps(view)
        def parse_then_run(**path_values: Any) -> ResponseReturnValue:
            if operation.body is not None:
                path_values["body"] = validation.body(request, operation.body)
            if operation.query is not None:
                path_values["query"] = validation.query(request, operation.query)
            return view(**path_values)

        OPERATIONS[parse_then_run] = operation
        return parse_then_run

    return attach


def operation_of(app: Flask, endpoint: str) -> Operation | None:
    return OPERATIONS.get(app.view_functions[endpoint])


def openapi_path(rule: str) -> str:
    """`/users/<user_id>/points` as `/users/{userId}/points`."""
    return RULE_ARGUMENT.sub(lambda match: "{" + to_camel(match[2]) + "}", rule)


def _content(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _header_parameter(header: Header) -> dict[str, Any]:
    return {
        "name": header.name,
        "in": "header",
        "required": header.required,
        "description": header.description,
        "schema": header.schema,
    }


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    return [
        {"name": name, "in": "query", "required": name in schema.get("required", ()), "schema": s}
        for name, s in schema["properties"].items()
    ]


def _operation(rule: str, operation: Operation, refs: Mapping[Any, Any]) -> dict[str, Any]:
    parameters = [
        {"name": to_camel(name), "in": "path", "required": True, "schema": PATH_SCHEMAS[converter]}
        for converter, name in RULE_ARGUMENT.findall(rule)
    ]
    if operation.query is not None:
        parameters += _query_parameters(operation.query)
    parameters += [_header_parameter(header) for header in operation.headers]
    responses: dict[str, Any] = {}
    for answer in operation.answers:
        responses[str(answer.status)] = {
            "description": answer.description,
            "content": _content(refs[answer.model, "serialization"]),
        }
        if answer.headers:
            responses[str(answer.status)]["headers"] = {
                header.name: {"description": header.description, "schema": header.schema}
                for header in answer.headers
            }
    for status in sorted(operation.error_statuses()):
        responses[str(status)] = {
            "description": ERROR_TEXTS[status],
            "content": _content(refs[Error, "serialization"]),
        }
    document: dict[str, Any] = {"summary": operation.summary, "responses": responses}
    if parameters:
        document["parameters"] = parameters
    if operation.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": _content(refs[operation.body, "validation"]),
        }
    if operation.admin:
        document["security"] = [{"adminToken": []}]
    return document


def openapi_document(app: Flask) -> dict[str, Any]:
    documented_rules = [
        (rule, operation)
        for rule in app.url_map.iter_rules()
        if (operation := operation_of(app, rule.endpoint)) is not None
    ]
    error: tuple[type[BaseModel], JsonSchemaMode] = (Error, "serialization")
    models = {error}.union(*(operation.models() for _, operation in documented_rules))
    refs, schemas = models_json_schema(
        sorted(models, key=lambda model: (model[0].__name__, model[1])), ref_template=REF_TEMPLATE
    )
    paths: dict[str, dict[str, Any]] = {}
    for rule, operation in documented_rules:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = _operation(
                rule.rule, operation, refs
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Soundcheck booking service",
            "version": "1.0.0",
            "description": "Concert booking: queue, concerts, reservations, points, "
            "payments, ranking (docs/requirements.md, B1-B12). The queue token (X-Queue-Token) "
            "is the caller's identity: a user's data, reservations, payments and point charges "
            "need that user's own token.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
    }
