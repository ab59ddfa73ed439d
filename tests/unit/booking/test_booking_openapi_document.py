"""Every Flask route is in the OpenAPI document, with the same methods, and the other way round."""

from __future__ import annotations

import re

from booking_app.openapi import openapi_document
from booking_app.web import create_app


def flask_routes() -> set[tuple[str, str]]:
    app = create_app()
    routes = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                routes.add((path, method.lower()))
    return routes


def to_camel(path: str) -> str:
    return re.sub(
        r"{(\w+)}", lambda m: "{" + re.sub(r"_(\w)", lambda c: c[1].upper(), m[1]) + "}", path
    )


def test_document_and_routes_match() -> None:
    documented = {
        (path, method)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
    }
    served = {(to_camel(path), method) for path, method in flask_routes()} - {("/metrics", "get")}
    assert documented == served


def test_every_operation_documents_its_errors_as_json() -> None:
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            if path in ("/health", "/openapi.json", "/ready"):
                continue
            assert "503" in operation["responses"], (method, path)
