"""The edge layer in process: which answer wins when several checks apply, and what each carries.

The checks run in one order (HTTPS, host, head size, declared length, CORS preflight, OPTIONS,
the route), and an answer made by one of them carries the headers of the steps outside it only:
security headers and ``X-Request-ID`` always, CORS headers only from the preflight inward.
"""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from app.core.body_limit import BodyLimits
from app.core.cors import StrictCORS
from app.core.errors import install_error_handlers
from app.core.hosts import TrustedHosts
from app.core.https import HTTPSOnly
from app.core.methods import MethodTable
from app.core.middleware import EdgeMiddleware
from app.core.security_headers import SecurityHeaders

pytestmark = pytest.mark.checklist(
    "C11",
    red="reorder the edge checks in app/core/middleware.py, or send an edge answer without the "
    "security headers or X-Request-ID",
)

ORIGIN = "https://app.example.com"
HOST = "app.example.com"


def _app() -> FastAPI:
    app = FastAPI(redirect_slashes=False)
    install_error_handlers(app)

    @app.post("/echo")
    async def echo(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    @app.get("/bug")
    async def bug() -> None:
        raise RuntimeError("boom")

    app.add_middleware(
        EdgeMiddleware,
        trusted_proxies=[ip_network("10.0.0.0/8")],
        security_headers=SecurityHeaders(hsts=True, docs_enabled=False, session_cookie_name="s"),
        https=HTTPSOnly(public_url=f"https://{HOST}"),
        hosts=TrustedHosts(allowed_hosts=[HOST]),
        bodies=BodyLimits(default_bytes=1024, upload_bytes=4096, webhook_bytes=1024),
        cors=StrictCORS([ORIGIN]),
        methods=MethodTable(app.router.routes),
    )
    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app(), base_url=f"https://{HOST}", raise_server_exceptions=False)


def _code(response: object) -> str:
    return str(response.json()["code"])  # type: ignore[attr-defined]


def _edge_headers(response: object, *, cors: bool) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["strict-transport-security"].startswith("max-age=")
    assert len(headers["x-request-id"]) == 24
    assert ("access-control-allow-origin" in headers) is cors


def test_https_wins_over_an_unknown_host() -> None:
    plain = TestClient(_app(), base_url="http://evil.example.com")
    response = plain.post("/echo", headers={"Content-Length": "99999"})
    assert (response.status_code, _code(response)) == (403, "https_required")
    _edge_headers(response, cors=False)


def test_an_unknown_host_wins_over_body_and_head_limits(client: TestClient) -> None:
    response = client.post(
        "/echo",
        headers={"Host": "evil.example.com", "Content-Length": "99999", "X-Pad": "a" * 17000},
    )
    assert (response.status_code, _code(response)) == (400, "invalid_host")


def test_the_head_limit_wins_over_a_declared_length(client: TestClient) -> None:
    response = client.post("/echo", headers={"Content-Length": "99999", "X-Pad": "a" * 17000})
    assert (response.status_code, _code(response)) == (431, "headers_too_large")


def test_a_declared_length_wins_over_a_preflight_and_gets_no_cors(client: TestClient) -> None:
    response = client.options(
        "/echo",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Content-Length": "99999",
        },
    )
    assert (response.status_code, _code(response)) == (413, "payload_too_large")
    _edge_headers(response, cors=False)


def test_a_preflight_wins_over_options(client: TestClient) -> None:
    response = client.options(
        "/echo", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 200
    assert "allow" not in response.headers
    _edge_headers(response, cors=True)


def test_a_plain_options_lists_the_methods_and_carries_cors(client: TestClient) -> None:
    response = client.options("/echo", headers={"Origin": ORIGIN})
    assert (response.status_code, response.headers["allow"]) == (204, "OPTIONS, POST")
    _edge_headers(response, cors=True)


def test_a_route_answer_and_a_405_carry_everything(client: TestClient) -> None:
    answer = client.post("/echo", headers={"Origin": ORIGIN}, json={})
    assert answer.status_code == 200
    _edge_headers(answer, cors=True)
    refused = client.get("/echo", headers={"Origin": ORIGIN})
    assert (refused.status_code, refused.headers["allow"]) == (405, "OPTIONS, POST")
    _edge_headers(refused, cors=True)


def test_a_streamed_body_over_the_cap_is_413(client: TestClient) -> None:
    chunks = iter([b'{"a": "' + b"x" * 800, b"x" * 800, b'"}'])
    response = client.post("/echo", headers={"Content-Type": "application/json"}, content=chunks)
    assert (response.status_code, _code(response)) == (413, "payload_too_large")
    _edge_headers(response, cors=False)


def test_the_bare_500_carries_the_security_headers_but_no_cors(client: TestClient) -> None:
    response = client.get("/bug", headers={"Origin": ORIGIN})
    assert (response.status_code, _code(response)) == (500, "internal_error")
    assert response.json()["request_id"] == response.headers["x-request-id"]
    _edge_headers(response, cors=False)
