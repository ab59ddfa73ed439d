"""The webhook's credentials in-process: a bearer token or Basic, exactly, whatever the scheme's
case; anything else gets 401 and plans nothing."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from router.settings import RouterSettings
from tests.support.router_webhooks import TOKEN, basic, bearer, deliveries, payload


def test_no_credentials_get_401(client: TestClient) -> None:
    answer = client.post("/alerts", json=payload())
    assert answer.status_code == 401
    assert "bearer token" in answer.json()["detail"]
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_token_gets_401(client: TestClient) -> None:
    assert client.post("/alerts", json=payload(), headers=bearer("nope")).status_code == 401


def test_basic_auth_is_accepted(client: TestClient) -> None:
    good = base64.b64encode(b"am:secret").decode()
    bad = base64.b64encode(b"am:wrong").decode()
    assert (
        client.post(
            "/alerts", json=payload(), headers={"Authorization": f"Basic {good}"}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/alerts", json=payload(), headers={"Authorization": f"Basic {bad}"}
        ).status_code
        == 401
    )


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Bearer    ",
        f"Bearer {TOKEN[:1]}",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN}{TOKEN}",
        f"Bearer {TOKEN.upper()}",
        f"Bearer{TOKEN}",
        f"Token {TOKEN}",
        TOKEN,
        "Basic",
        "Basic ",
        basic(b""),
        basic(b":"),
        basic(b"am"),
        basic(b"am:"),
        basic(b"am:secre"),
        basic(b"am:secretx"),
        basic(b"a:secret"),
        basic(b"amx:secret"),
        basic(b":secret"),
        basic(b"am:secret:"),
        "Basic not-base64!",
        f"Basic {TOKEN}",
        f"Bearer {base64.b64encode(b'am:secret').decode()}",
    ],
)
def test_anything_but_the_exact_credentials_gets_401(
    client: TestClient, settings: RouterSettings, authorization: str
) -> None:
    """Empty, shortened, longer or otherwise wrong credentials: not one is a prefix match."""
    answer = client.post("/alerts", json=payload(), headers={"Authorization": authorization})
    assert answer.status_code == 401, authorization
    assert deliveries(settings) == []


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {TOKEN}",
        f"bearer {TOKEN}",
        f"BEARER {TOKEN}",
        f"BeArEr {TOKEN}",
        basic(b"am:secret"),
        "basic " + base64.b64encode(b"am:secret").decode(),
        "BASIC " + base64.b64encode(b"am:secret").decode(),
    ],
)
def test_the_exact_credentials_are_accepted_whatever_the_scheme_case(
    client: TestClient, authorization: str
) -> None:
    """RFC 9110: the auth scheme is case-insensitive; the credentials are not."""
    answer = client.post("/alerts", json=payload(), headers={"Authorization": authorization})
    assert answer.status_code == 200, authorization
