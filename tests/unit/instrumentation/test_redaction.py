"""No token, password or routing key ever appears in a log line, on stdout or shipped."""

from __future__ import annotations

import logging

import pytest

from instrumentation.logs import LoggingSetup, register_secret
from instrumentation.redaction import (
    is_secret_name,
    redact_text,
    redact_url,
    register_secrets_from_environment,
)
from tests.support.telemetry_peers import ForwardPeer
from tests.support.telemetry_setup import configure, telemetry_settings

SECRETS = {
    "password": "hunter2-db-password",
    "queue_token": "9f1c2b7e-queue-token-value",
    "routing_key": "R0UT1NGKEY0123456789abcdef012345",
    "bearer": "eyJhbGciOiJIUzI1NiJ9.payload.sig",
    "env_token": "router-webhook-token-from-env",
    "file_token": "token-read-from-a-file-0001",
    "url_password": "url-embedded-secret",
    "registered": "issued-at-runtime-secret",
}


def test_no_secret_reaches_stdout_or_the_forward_receiver(
    capsys: pytest.CaptureFixture[str],
    logging_to: list[LoggingSetup],
    forward_peer: ForwardPeer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
) -> None:
    token_file = tmp_path / "token"  # type: ignore[operator]
    token_file.write_text(SECRETS["file_token"] + "\n")
    monkeypatch.setenv("SOUNDCHECK_ROUTER_TOKEN", SECRETS["env_token"])
    monkeypatch.setenv("SOUNDCHECK_ROUTER_TOKEN_FILE", str(token_file))
    monkeypatch.setenv(
        "BOOKING_DATABASE_URL", f"mysql+pymysql://app:{SECRETS['url_password']}@db:3306/x"
    )
    setup = configure(logging_to, "booking", telemetry_settings(forward_peer))
    register_secret(SECRETS["registered"])
    log = logging.getLogger("booking.secrets")

    log.info("login with password=%s", SECRETS["password"])
    log.info("queue token issued", extra={"tokenValue": SECRETS["queue_token"], "userId": 7})
    log.info("headers", extra={"http.request.headers": {"X-Queue-Token": SECRETS["queue_token"]}})
    log.info("pagerduty event", extra={"payload": {"routing_key": SECRETS["routing_key"]}})
    log.info("calling with Authorization: Bearer %s", SECRETS["bearer"])
    log.warning("router configured with %s", SECRETS["env_token"])
    log.warning("jira token is %s", SECRETS["file_token"])
    log.error("cannot connect to mysql+pymysql://app:%s@db:3306/x", SECRETS["url_password"])
    log.info("runtime secret %s in a sentence", SECRETS["registered"])
    try:
        raise ValueError(f"bad credentials {SECRETS['registered']} password={SECRETS['password']}")
    except ValueError:
        log.exception("failed", extra={"event": "login.failed"})
    logging.getLogger("some.library").info("library echoes %s", SECRETS["env_token"])

    assert setup.shipper is not None
    assert setup.shipper.flush(10)
    stdout = capsys.readouterr().out
    shipped = repr(forward_peer.messages())
    assert stdout.count("\n") >= 11
    assert len(forward_peer.messages()) >= 11
    for name, secret in SECRETS.items():
        assert secret not in stdout, f"{name} leaked to stdout"
        assert secret not in shipped, f"{name} leaked to the forward receiver"
    assert "[REDACTED]" in stdout


def test_a_handler_added_by_a_library_never_sees_a_secret_in_the_message(
    logging_to: list[LoggingSetup], capsys: pytest.CaptureFixture[str]
) -> None:
    """The record factory redacts the message before *any* handler, not just ours."""
    configure(logging_to, "booking", telemetry_settings())
    seen: list[str] = []

    class Foreign(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    foreign = Foreign()
    logging.getLogger().addHandler(foreign)
    try:
        logging.getLogger("lib").warning("password=%s", SECRETS["password"])
    finally:
        logging.getLogger().removeHandler(foreign)
    assert seen
    assert SECRETS["password"] not in seen[0]


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "db_password",
        "tokenValue",
        "X-Queue-Token",
        "routing_key",
        "authorization",
        "api_key",
        "admin_token",
        "token",
        "session_id",
        "secret",
    ],
)
def test_secret_field_names_are_recognised(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["event", "lock.key", "tokens_activated", "activatedCount", "user.id", "trace.id"]
)
def test_ordinary_field_names_are_kept(name: str) -> None:
    assert not is_secret_name(name)


def test_patterns_in_free_text_are_masked() -> None:
    assert redact_text('{"password": "abc123"}') == '{"password": "[REDACTED]"}'
    assert redact_text("token=abc123&x=1") == "token=[REDACTED]&x=1"
    assert redact_text("redis://:s3cret@host:6379") == "redis://:[REDACTED]@host:6379"


def test_environment_secrets_are_registered_by_name() -> None:
    register_secrets_from_environment({"SOUNDCHECK_SLACK_TOKEN": "test-slack-token-value"})
    assert "test-slack-token-value" not in redact_text("sent with test-slack-token-value today")


def test_secret_query_values_are_masked_in_urls_and_the_rest_kept() -> None:
    url = "http://h:1/alerts?token=t0ken&X-Amz-Signature=s1g&sig=s2&limit=5&user=me&flag"
    assert redact_url(url) == (
        "http://h:1/alerts?token=[REDACTED]&X-Amz-Signature=[REDACTED]&sig=[REDACTED]"
        "&limit=5&user=me&flag"
    )
    assert redact_url("api_key=k3y&page=2", query_only=True) == "api_key=[REDACTED]&page=2"
    assert redact_url("/concerts/7/schedules") == "/concerts/7/schedules"


def test_a_text_redacted_before_a_secret_was_registered_is_masked_after() -> None:
    """Short texts are kept once redacted; a secret registered later still masks them."""
    text = "the caller sent late-registered-secret-0042 again"
    assert redact_text(text) == text
    register_secret("late-registered-secret-0042")
    assert redact_text(text) == "the caller sent [REDACTED] again"
