"""Development over http://127.0.0.1: a plain httpx.Client keeps its session (C1, C5).

``make run`` serves plain http on loopback, where a cookie-abiding client (httpx, requests) never
sends a ``Secure`` cookie back. ENVIRONMENT=development with a loopback http PUBLIC_URL therefore
sets ``lp_session`` without Secure. The production cookie is exactly the ``__Host-`` one
(``__Host-lp_session; HttpOnly; Max-Age; Path=/; SameSite=lax; Secure``), on a complete production
configuration; the suite's own servers (ENVIRONMENT=test) keep it too (tests/auth/test_router.py).
"""

from __future__ import annotations

import httpx
import pytest

from tests.edge.production import PUBLIC_URL, prod_server, request
from tests.factories.users import signup, strong_password, unique_email
from tests.support import Database, Server, run_cli

__all__ = ["prod_server"]
LOGIN = "/v1/auth/login"


def attributes(set_cookie: str) -> dict[str, str]:
    parts = [part.strip() for part in set_cookie.split(";")]
    return {part.partition("=")[0].lower(): part.partition("=")[2] for part in parts[1:]}


@pytest.mark.checklist(
    "C1", red="set the dev cookie Secure (session_cookie.py _secure): /v1/me answers 401"
)
def test_plain_httpx_client_stays_signed_in_over_http_loopback(
    dev_server: Server, db: Database
) -> None:
    email, password = signup(dev_server, db)
    with httpx.Client(base_url=dev_server.url, headers={"Origin": dev_server.origin}) as client:
        login = client.post(LOGIN, json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        cookie = login.headers["set-cookie"]
        assert cookie.startswith("lp_session=")
        assert "secure" not in attributes(cookie)
        assert {"httponly", "samesite", "path"} <= set(attributes(cookie))
        me = client.get("/v1/me")
        assert me.status_code == 200, me.text
        assert me.json()["email"] == email
        assert client.post("/v1/auth/logout").status_code == 204
        assert client.get("/v1/me").status_code == 401
        described = client.get("/openapi.json").json()["info"]["description"]
        assert "This server's session cookie: `lp_session`." in described


@pytest.mark.checklist(
    "C1",
    "C5",
    red="any change to the production cookie: _secure() returning False, samesite=strict",
)
def test_production_cookie_is_exactly_the_host_prefixed_secure_one(prod_server: Server) -> None:
    email, password = unique_email("prodcookie"), strong_password()
    created = run_cli(
        prod_server.env, "create-user", "--email", email, "--verified", stdin=password + "\n"
    )
    assert created.returncode == 0, created.stderr
    login = request(
        prod_server,
        "POST",
        LOGIN,
        https=True,
        headers={"Origin": PUBLIC_URL},
        json={"email": email, "password": password},
    )
    assert login.status_code == 200, login.text
    (cookie,) = login.headers.get_list("set-cookie")
    assert cookie.startswith("__Host-lp_session=")
    assert attributes(cookie) == {
        "httponly": "",
        "max-age": str(30 * 24 * 3600),
        "path": "/",
        "samesite": "lax",
        "secure": "",
    }
