"""Security headers on every response, errors included; no-store when authenticated (C11)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.edge.production import prod_server, request
from tests.servers import ServerFactory
from tests.support import Actor, Database, Server, base_env

pytestmark = pytest.mark.checklist(
    "C11",
    red="drop a header from SecurityHeaders (error answers included), HSTS in "
    "production, or Cache-Control no-store on authenticated answers",
)

__all__ = ["prod_server"]

API_CSP = "default-src 'none'; frame-ancestors 'none'"
FIXED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": API_CSP,
    "x-frame-options": "DENY",
    "cross-origin-resource-policy": "same-origin",
}

# (method, path, request kwargs, expected status): a success and every kind of error answer.
CASES: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", "/healthz", {}, 200),
    ("GET", "/v1/no-such-route", {}, 404),
    ("DELETE", "/healthz", {}, 405),
    ("GET", "/v1/me", {}, 401),
    (
        "POST",
        "/v1/auth/login",
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        400,
    ),
    ("POST", "/v1/auth/login", {"json": {"email": 1}}, 422),
    ("POST", "/v1/auth/login", {"content": b"x" * 2_000_000}, 413),
    ("GET", "/v1/me", {"headers": {"Host": "evil.example"}}, 400),
]


def _assert_fixed(response: httpx.Response) -> None:
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, name
    assert "server" not in response.headers
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), CASES)
def test_every_response_carries_the_headers(
    server: Server, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    headers = {"Origin": server.origin, **kwargs.pop("headers", {})}
    response = httpx.request(method, server.url + path, headers=headers, timeout=30, **kwargs)
    assert response.status_code == status, response.text
    _assert_fixed(response)
    assert "strict-transport-security" not in response.headers  # not production
    assert "cache-control" not in response.headers  # anonymous


def test_authenticated_responses_are_not_stored(alice: Actor) -> None:
    ok = alice.get("/v1/me")
    assert ok.status_code == 200
    assert ok.headers["cache-control"] == "no-store"
    _assert_fixed(ok)
    missing = alice.get("/v1/no-such-route")
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store"


def test_bearer_requests_are_not_stored_even_when_refused(server: Server) -> None:
    response = httpx.get(
        server.url + "/v1/me", headers={"Authorization": "Bearer lp_nonsense"}, timeout=10
    )
    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "https", "status"),
    [("/healthz", True, 200), ("/v1/me", True, 401), ("/v1/me", False, 403)],
)
def test_production_adds_hsts(prod_server: Server, path: str, https: bool, status: int) -> None:
    response = request(prod_server, "GET", path, https=https)
    assert response.status_code == status
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    _assert_fixed(response)


@pytest.fixture(scope="module")
def docs_server(db: Database, server_factory: ServerFactory) -> Iterator[Server]:
    env = base_env(db, ENVIRONMENT="development", DOCS_ENABLED="true")
    with server_factory(env, name="docs") as srv:
        yield srv


def test_docs_page_gets_its_own_csp_and_nothing_else_does(docs_server: Server) -> None:
    page = httpx.get(docs_server.url + "/docs", timeout=10)
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    # Offline: every asset comes from this origin (no CDN), and the boot code is a file.
    assert "https://" not in page.text
    assert "<script>" not in page.text
    for asset in (
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
        "/docs/boot.js",
    ):
        assert asset in page.text
        assert httpx.get(docs_server.url + asset, timeout=10).status_code == 200
    assert (
        httpx.get(docs_server.url + "/docs/assets/swagger-ui.js.map", timeout=10).status_code == 404
    )
    assert "connect-src 'self'" in csp
    schema = httpx.get(docs_server.url + "/openapi.json", timeout=10)
    assert schema.status_code == 200
    assert schema.headers["content-security-policy"] == API_CSP
