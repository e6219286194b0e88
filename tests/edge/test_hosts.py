"""Trusted hosts: an unknown Host gets problem+json 400; mailed links use PUBLIC_URL (C11)."""

from __future__ import annotations

import httpx
import pytest

from tests.edge.production import EXTRA_HOST, PUBLIC_URL, prod_server, request
from tests.factories.users import strong_password, unique_email
from tests.support import Database, Server

pytestmark = pytest.mark.checklist(
    "C11",
    red="accept any Host in TrustedHosts, or build mailed links from the request's Host"
    " instead of PUBLIC_URL",
)

__all__ = ["prod_server"]


def _assert_invalid_host(response: httpx.Response) -> None:
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "invalid_host"
    assert body["request_id"] == response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        f"{EXTRA_HOST}.evil.example",
        f"evil-{EXTRA_HOST}",
        "127.0.0.1.evil.example",
        "app.launchproof.test",  # the public name is Cloudflare's, not in this origin's list
    ],
)
def test_unknown_host_is_refused(server: Server, host: str) -> None:
    _assert_invalid_host(httpx.get(server.url + "/v1/me", headers={"Host": host}, timeout=10))


def test_signup_with_foreign_host_is_refused_and_stores_nothing(
    prod_server: Server, db: Database
) -> None:
    email = unique_email("evilhost")
    response = request(
        prod_server,
        "POST",
        "/v1/auth/signup",
        https=True,
        headers={"Host": "evil.example", "Origin": PUBLIC_URL},
        json={"email": email, "password": strong_password()},
    )
    _assert_invalid_host(response)
    assert db.scalar("SELECT count(*) FROM user_account WHERE email = %s", email) == 0
    assert db.scalar("SELECT count(*) FROM email_outbox WHERE to_address = %s", email) == 0


def test_mailed_links_use_public_url_not_request_host(prod_server: Server, db: Database) -> None:
    email = unique_email("hostlink")
    response = request(
        prod_server,
        "POST",
        "/v1/auth/signup",
        https=True,
        headers={
            "Host": EXTRA_HOST,  # allowed on this origin, yet not the public name
            "Origin": PUBLIC_URL,
            "X-Forwarded-Host": "evil.example",
        },
        json={"email": email, "password": strong_password()},
    )
    assert response.status_code == 202, response.text
    mail = db.last_mail(email, "verify_email")
    assert f"{PUBLIC_URL}/verify-email#token=" in mail
    assert EXTRA_HOST not in mail
    assert "evil.example" not in mail
