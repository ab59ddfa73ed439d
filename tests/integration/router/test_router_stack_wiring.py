"""The router as `soundcheck up` runs it: behind the stack's Alertmanager, with the token file."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from sandbox.client import SandboxClient
from soundcheck.settings import StackSettings
from soundcheck.stack.stack import Stack
from tests.support.harness import parts_up
from tests.support.polling import eventually

LENIENT = {"ignore_unavailable": "true", "allow_no_indices": "true"}


def router_url(stack: Stack) -> str:
    return stack.part("router").address()


def test_stack_router_wants_the_token_alertmanager_has(
    router_parts: Stack, settings: StackSettings
) -> None:
    url = f"{router_url(router_parts)}/alerts"
    body = {"version": "4"}
    assert httpx.post(url, json=body).status_code == 401
    assert httpx.post(url, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    token = (settings.home / "router" / "token").read_text().strip()
    answer = httpx.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422
    assert "Traceback" not in answer.text


def test_stack_router_health_metrics_and_openapi(router_parts: Stack) -> None:
    url = router_url(router_parts)
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{url}/readyz").json()["ready"] is True
    assert "router_queue_depth" in httpx.get(f"{url}/metrics").text
    assert "/alerts" in httpx.get(f"{url}/openapi.json").json()["paths"]


def test_alert_posted_to_the_stack_alertmanager_pages_through_the_router(
    router_parts: Stack, sandbox: SandboxClient
) -> None:
    name = f"WiringCheck{uuid.uuid4().hex[:6]}"
    alertmanager = router_parts.part("alertmanager").address()
    alert = {
        "labels": {"alertname": name, "priority": "P0", "service": "wiring-test"},
        "annotations": {"summary": "stack wiring test"},
    }
    httpx.post(f"{alertmanager}/api/v2/alerts", json=[alert], timeout=5).raise_for_status()

    def paged() -> bool:
        return any(
            name in str(e["body"]) for e in sandbox.received("pagerduty") if e["kind"] == "trigger"
        )

    eventually(paged, 60, f"{name} paged through the stack's Alertmanager and router")
    eventually(
        lambda: any(name in m["text"] for m in sandbox.slack_messages("alerts-critical")),
        30,
        f"{name} posted to #alerts-critical",
    )
    # end it so it does not linger in the shared Alertmanager
    now = datetime.now(UTC)
    resolved = {
        **alert,
        "startsAt": (now - timedelta(minutes=5)).isoformat(),
        "endsAt": (now - timedelta(seconds=1)).isoformat(),
    }
    httpx.post(f"{alertmanager}/api/v2/alerts", json=[resolved], timeout=5).raise_for_status()


def dropped_log_records(router_url: str) -> float:
    """`log_records_dropped_total` on the router's /metrics, summed over every reason."""
    metrics = httpx.get(f"{router_url}/metrics", timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name == "log_records_dropped"
        for sample in family.samples
        if sample.name == "log_records_dropped_total"
    )


def test_stack_router_webhook_process_ships_its_logs(
    router_parts: Stack, settings: StackSettings
) -> None:
    """uvicorn's own logging set-up once closed the shipper's handler: every record of the
    webhook's process was dropped (reason "shutdown") and none reached Elasticsearch."""
    with parts_up(settings, ["elasticsearch", "pipeline"]) as stack:
        path = f"/runbooks/LogShippingCheck{uuid.uuid4().hex[:8]}"
        assert httpx.get(f"{router_url(router_parts)}{path}", timeout=10).status_code == 404
        elasticsearch = stack.part("elasticsearch").address()

        def shipped() -> list[dict[str, Any]]:
            httpx.post(f"{elasticsearch}/logs-router-*/_refresh", params=LENIENT, timeout=10)
            answer = httpx.post(
                f"{elasticsearch}/logs-router-*/_search",
                params=LENIENT,
                json={"query": {"term": {"url.path": path}}},
                timeout=10,
            )
            if answer.status_code != 200:  # an index created a moment ago may not be searchable
                return []
            return [hit["_source"] for hit in answer.json()["hits"]["hits"]]

        (line,) = eventually(shipped, 90, f"the router's log line for {path} in Elasticsearch")
        assert line["event.action"] == "http.request.completed"
        assert line["service.name"] == "router"
        assert dropped_log_records(router_url(router_parts)) == 0
