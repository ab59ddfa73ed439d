"""Schemathesis against the running router's OpenAPI document: no request makes a server error,
and enough of them get past authentication to test the webhook itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.harness import RouterProcess

# What the webhook answers a request that got past authentication: stored, or refused as a
# payload (too large, not v4). A 401 means the fuzzer never reached the webhook's own code.
PAST_AUTHENTICATION = {200, 413, 422}
WEBHOOKS_FUZZED_AT_LEAST = 50  # one run sent 230 (max-examples 40)


def test_schemathesis_finds_no_server_error(
    router: RouterProcess, token: str, tmp_path: Path
) -> None:
    requests_made = tmp_path / "requests.har"
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{router.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "40",
            "-H",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            "10",
            "--report",
            "har",
            "--report-har-path",
            str(requests_made),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    webhooks = [
        entry["response"]["status"]
        for entry in json.loads(requests_made.read_text())["log"]["entries"]
        if entry["request"]["method"] == "POST"
        and httpx.URL(entry["request"]["url"]).path == "/alerts"
    ]
    past_authentication = [status for status in webhooks if status in PAST_AUTHENTICATION]
    assert len(past_authentication) >= WEBHOOKS_FUZZED_AT_LEAST, (
        f"only {len(past_authentication)} of {len(webhooks)} requests to /alerts got past "
        f"authentication: {sorted(set(webhooks))}"
    )
