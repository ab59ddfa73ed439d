"""The router's other routes in-process: runbooks as HTML, health, readiness and metrics, 405 and
404 answers, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.router_webhooks import bearer, payload


def test_runbook_is_served_as_html(client: TestClient) -> None:
    page = client.get("/runbooks/RedisDown")
    assert page.status_code == 200
    assert "<h1" in page.text
    assert "<code>redis-cli ping</code>" in page.text
    assert client.get("/runbooks/NoSuchAlert").status_code == 404
    assert client.get("/runbooks/..%2Fsecrets").status_code == 404
    assert "RedisDown" in client.get("/runbooks").text


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    client.post("/alerts", json=payload(), headers=bearer())
    text = client.get("/metrics").text
    assert 'router_alerts_received_total{status="firing"}' in text
    assert 'router_queue_depth{state="pending"}' in text


def test_a_wrong_method_gets_405_with_allow_naming_the_right_ones(client: TestClient) -> None:
    """RFC 9110 §15.5.6: a 405 lists the methods the resource supports."""
    for route in client.app.routes:  # type: ignore[attr-defined]
        methods: set[str] = getattr(route, "methods", None) or set()
        if not methods:
            continue
        path = str(route.path).replace("{alertname}", "RedisDown")
        wrong = "DELETE" if "DELETE" not in methods else "PATCH"
        answer = client.request(wrong, path)
        assert answer.status_code == 405, (wrong, path)
        assert set(answer.headers["Allow"].replace(" ", "").split(",")) >= methods, path
        assert answer.headers["Allow"] in answer.json()["detail"], answer.text
    nowhere = client.get("/no/such/path")
    assert nowhere.status_code == 404
    assert "/docs" in nowhere.json()["detail"]


def references(node: object) -> list[str]:
    """Every `$ref` anywhere in a JSON document."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in references(value)]
    if isinstance(node, list):
        return [r for value in node for r in references(value)]
    return []


def resolve(document: dict[str, Any], reference: str) -> Any:
    assert reference.startswith("#/"), reference
    node: Any = document
    for part in reference[2:].split("/"):
        assert isinstance(node, dict), f"{reference} does not resolve"
        assert part in node, f"{reference} does not resolve"
        node = node[part]
    return node


def test_openapi_document_describes_the_webhook_and_its_credentials(client: TestClient) -> None:
    """The webhook's body schema and security schemes are in the document, so clients and
    fuzzers can build a valid, authenticated request (they once sent 1 in 15,556 to it)."""
    document = client.get("/openapi.json").json()
    for reference in references(document):
        resolve(document, reference)
    operation = document["paths"]["/alerts"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    webhook = resolve(document, body["$ref"])
    assert {"version", "alerts", "truncatedAlerts"} <= set(webhook["properties"])
    assert webhook["properties"]["truncatedAlerts"]["maximum"] == 2**31 - 1
    schemes = document["components"]["securitySchemes"]
    for requirement in operation["security"]:
        for name in requirement:
            assert name in schemes, f"/alerts asks for an undeclared security scheme {name}"
    assert {schemes[name]["scheme"] for name in schemes} == {"bearer", "basic"}
