"""CORS over HTTP against the running server: exact origins only, credentials only for them (C5).

The server allows ``https://app.example.com`` and one ``http://localhost:<port>`` origin. Every
look-alike (suffix, prefix, scheme, port, ``null``, mixed case) gets no CORS header at all, on
preflights and on simple requests, so a browser neither sends the credentialed request nor lets
the page read an answer. Case: browsers serialise ``Origin`` in lower case, so matching is exact
and case-sensitive; ``https://APP.example.com`` is not a browser and is granted nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.core.cors import MAX_PREFLIGHT_AGE_SECONDS, StrictCORS
from tests.servers import ServerFactory
from tests.support import Server, free_port

pytestmark = pytest.mark.checklist(
    "C5",
    red="match origins by prefix, suffix or case in StrictCORS, grant a look-alike or "
    "null origin, widen the preflight, or allow `*` with credentials",
)

ALLOWED = "https://app.example.com"
LOCAL_PORT = free_port()
LOCAL_ALLOWED = f"http://localhost:{LOCAL_PORT}"
LOOK_ALIKES = [
    pytest.param("https://evil-app.example.com", id="prefix-look-alike"),
    pytest.param("https://app.example.com.evil.com", id="suffix-look-alike"),
    pytest.param("https://evilapp.example.com", id="glued-prefix"),
    pytest.param("https://example.com", id="parent-domain"),
    pytest.param("https://sub.app.example.com", id="subdomain"),
    pytest.param("http://app.example.com", id="other-scheme"),
    pytest.param("https://app.example.com:8443", id="other-port"),
    pytest.param("https://app.example.com:443", id="explicit-default-port"),
    pytest.param("null", id="null"),
    pytest.param("https://APP.example.com", id="mixed-case"),
    pytest.param("https://app.example.com/", id="trailing-slash"),
    pytest.param(f"http://localhost:{LOCAL_PORT + 1}", id="localhost-other-port"),
    pytest.param(f"http://127.0.0.1:{LOCAL_PORT}", id="localhost-as-ip"),
    pytest.param(f"https://localhost:{LOCAL_PORT}", id="localhost-https"),
    pytest.param("*", id="star"),
]
GRANTS = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
)


@pytest.fixture(scope="module")
def cors_server(server_factory: ServerFactory) -> Iterator[Server]:
    with server_factory(name="cors", ALLOWED_ORIGINS=f"{ALLOWED},{LOCAL_ALLOWED}") as server:
        yield server


def preflight(
    server: Server, origin: str, method: str = "POST", headers: str = "content-type"
) -> httpx.Response:
    return httpx.options(
        server.url + "/v1/auth/login",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
        timeout=10,
    )


def simple(server: Server, origin: str, path: str = "/healthz") -> httpx.Response:
    return httpx.get(server.url + path, headers={"Origin": origin}, timeout=10)


def assert_no_grant(response: httpx.Response) -> None:
    granted = {name: response.headers[name] for name in GRANTS if name in response.headers}
    assert granted == {}, granted


def vary(response: httpx.Response) -> set[str]:
    return {
        item.strip().lower()
        for value in response.headers.get_list("vary")
        for item in value.split(",")
    }


@pytest.mark.parametrize("origin", LOOK_ALIKES)
def test_look_alike_preflight_gets_no_grant(cors_server: Server, origin: str) -> None:
    response = preflight(cors_server, origin)
    assert response.status_code == 400
    assert_no_grant(response)


@pytest.mark.parametrize("origin", LOOK_ALIKES)
@pytest.mark.parametrize("path", ["/healthz", "/v1/me"])
def test_look_alike_simple_request_gets_no_grant(
    cors_server: Server, origin: str, path: str
) -> None:
    response = simple(cors_server, origin, path)
    assert_no_grant(response)
    assert "origin" in vary(response)  # shared caches keep per-origin answers apart


@pytest.mark.parametrize("origin", [ALLOWED, LOCAL_ALLOWED])
def test_allowed_origin_preflight_is_exact_and_bounded(cors_server: Server, origin: str) -> None:
    response = preflight(cors_server, origin, headers="content-type, idempotency-key")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "origin" in vary(response)
    assert 0 < int(response.headers["access-control-max-age"]) <= MAX_PREFLIGHT_AGE_SECONDS
    methods = {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    assert methods == {"GET", "POST", "PATCH", "DELETE"}
    allowed_headers = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert "*" not in allowed_headers
    assert "authorization" not in allowed_headers
    assert {"content-type", "idempotency-key"} <= allowed_headers


@pytest.mark.parametrize("origin", [ALLOWED, LOCAL_ALLOWED])
@pytest.mark.parametrize("path", ["/healthz", "/v1/me"])
def test_allowed_origin_simple_request_is_echoed_with_credentials(
    cors_server: Server, origin: str, path: str
) -> None:
    response = simple(cors_server, origin, path)
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "origin" in vary(response)


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        pytest.param("PUT", "content-type", id="method-not-offered"),
        pytest.param("POST", "authorization", id="authorization-not-offered"),
        pytest.param("POST", "x-forwarded-for", id="arbitrary-header"),
    ],
)
def test_allowed_origin_cannot_preflight_more_than_the_minimum(
    cors_server: Server, method: str, headers: str
) -> None:
    response = preflight(cors_server, ALLOWED, method=method, headers=headers)
    assert response.status_code == 400
    offered_methods = {
        m.strip() for m in response.headers.get("access-control-allow-methods", "").split(",")
    }
    offered_headers = {
        h.strip().lower()
        for h in response.headers.get("access-control-allow-headers", "").split(",")
    }
    assert not (method in offered_methods and headers in offered_headers)


def test_no_origin_no_cors_headers(cors_server: Server) -> None:
    assert_no_grant(httpx.get(cors_server.url + "/healthz", timeout=10))


@pytest.mark.parametrize(
    ("origins", "max_age"),
    [
        pytest.param(["*"], 600, id="star"),
        pytest.param(["null"], 600, id="null"),
        pytest.param(["app.example.com"], 600, id="no-scheme"),
        pytest.param(["https://app.example.com/"], 600, id="trailing-slash"),
        pytest.param([ALLOWED], 86_400, id="unbounded-preflight-cache"),
    ],
)
def test_the_policy_refuses_a_loose_policy(origins: list[str], max_age: int) -> None:
    with pytest.raises(ValueError, match="CORS"):
        StrictCORS(allow_origins=origins, max_age=max_age)
