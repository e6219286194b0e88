"""HTTPS only in production: browsers are redirected to PUBLIC_URL, API calls refused (C11).

The scheme is the trusted proxy's ``X-Forwarded-Proto``; from an untrusted peer the header is
ignored, so a client talking plain HTTP to the origin cannot claim it arrived over TLS.
"""

from __future__ import annotations

import pytest

from tests.edge.production import (
    EXTRA_HOST,
    PUBLIC_URL,
    UNTRUSTED_PEER,
    prod_server,
    request,
)
from tests.support import Server

pytestmark = pytest.mark.checklist(
    "C11",
    red="let HTTPSOnly serve plain http, redirect anywhere but PUBLIC_URL, or trust "
    "X-Forwarded-Proto from an untrusted peer",
)

__all__ = ["prod_server"]
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_plain_http_navigation_redirects_to_public_url(prod_server: Server, method: str) -> None:
    response = request(
        prod_server, method, "/v1/me?tab=security&x=%2F", headers={**HTML, "Host": EXTRA_HOST}
    )
    assert response.status_code == 308
    # The configured origin, never the Host the request named.
    assert response.headers["location"] == f"{PUBLIC_URL}/v1/me?tab=security&x=%2F"
    assert response.headers["strict-transport-security"].startswith("max-age=63072000")
    assert response.headers["x-request-id"]


def test_redirect_cannot_be_steered_off_origin(prod_server: Server) -> None:
    response = request(prod_server, "GET", "//evil.example/login", headers=HTML)
    assert response.status_code == 308
    assert response.headers["location"].startswith(PUBLIC_URL + "/")
    assert response.headers["location"] == PUBLIC_URL + "//evil.example/login"


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", "/v1/auth/login", {"Accept": "application/json"}),
        ("GET", "/v1/me", {"Accept": "application/json"}),
        ("GET", "/v1/me", {}),
        # A form post with an HTML Accept is still not a navigation that may be redirected.
        ("POST", "/v1/auth/login", HTML),
    ],
)
def test_plain_http_api_call_is_refused(
    prod_server: Server, method: str, path: str, headers: dict[str, str]
) -> None:
    response = request(
        prod_server, method, path, headers=headers, json={"email": "a@b.c", "password": "x" * 12}
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "https_required"
    assert body["request_id"] == response.headers["x-request-id"]
    assert "location" not in response.headers


def test_forwarded_https_from_trusted_proxy_passes(prod_server: Server) -> None:
    response = request(prod_server, "GET", "/v1/me", https=True)
    assert response.status_code == 401  # reached the route: authentication is next
    assert response.json()["code"] != "https_required"


def test_forwarded_proto_from_untrusted_peer_is_ignored(prod_server: Server) -> None:
    api = request(prod_server, "GET", "/v1/me", https=True, source=UNTRUSTED_PEER)
    assert api.status_code == 403
    assert api.json()["code"] == "https_required"
    page = request(prod_server, "GET", "/v1/me", https=True, source=UNTRUSTED_PEER, headers=HTML)
    assert page.status_code == 308


def test_forwarded_proto_http_from_trusted_proxy_is_refused(prod_server: Server) -> None:
    response = request(prod_server, "GET", "/v1/me", headers={"X-Forwarded-Proto": "http"})
    assert response.status_code == 403
    assert response.json()["code"] == "https_required"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_probes_answer_over_plain_http(prod_server: Server, path: str) -> None:
    response = request(prod_server, "GET", path, source=UNTRUSTED_PEER)
    assert response.status_code == 200
