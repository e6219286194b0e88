"""HEAD, OPTIONS, 405 and wrong paths answered as HTTP says, over the running server (C7).

Before: ``OPTIONS /v1/me`` answered ``405 Allow: GET`` (PATCH exists too), HEAD was a 405
everywhere, and Starlette's slash redirect answered ``GET /v1/me/`` with a 307 to plain http
and told a prober that ``/metrics`` exists (``/metrics/`` -> 307 while ``/metrics`` -> 404).
The expected methods come from the application's route table, so a new route is covered.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import defaultdict

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from app.api import api_router
from app.core.errors import PROBLEM_JSON
from tests.support import Server

pytestmark = pytest.mark.checklist(
    "C7", red="drop the MethodTable from the edge layer (app/main.py), or turn redirect_slashes on"
)


def served_paths() -> dict[str, set[str]]:
    """Path template -> the methods the API serves there."""
    paths: dict[str, set[str]] = defaultdict(set)
    for context in iter_route_contexts(api_router.routes):
        paths[str(context.path)] |= set(context.methods or ())
    return dict(paths)


def concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _m: str(uuid.uuid4()), template)


def expected_allow(methods: set[str]) -> set[str]:
    return methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())


def allow_of(response: httpx.Response) -> set[str]:
    return {m.strip() for m in response.headers.get("allow", "").split(",") if m.strip()}


@pytest.mark.parametrize(("template", "methods"), sorted(served_paths().items()))
def test_options_lists_exactly_the_methods_of_the_path(
    server: Server, template: str, methods: set[str]
) -> None:
    response = httpx.options(server.url + concrete(template), timeout=10)
    assert response.status_code == 204, response.text
    assert allow_of(response) == expected_allow(methods)
    assert response.content == b""


def test_an_unserved_method_is_405_with_the_full_allow(server: Server) -> None:
    response = httpx.put(server.url + f"/v1/workspaces/{uuid.uuid4()}", timeout=10)
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM_JSON
    assert allow_of(response) == {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH"}
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/healthz", "/v1/me"])
def test_head_is_get_without_a_body(server: Server, path: str) -> None:
    get = httpx.get(server.url + path, timeout=10)
    head = httpx.head(server.url + path, timeout=10)
    assert head.status_code == get.status_code  # 200 for /healthz, 401 (no credential) for /v1/me
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


@pytest.mark.parametrize("path", ["/v1/me/", "/metrics/", "/healthz/", "/v1/workspaces/"])
def test_a_trailing_slash_is_a_404_problem_not_a_redirect(server: Server, path: str) -> None:
    response = httpx.get(server.url + path, timeout=10)
    random = httpx.get(server.url + f"/{uuid.uuid4().hex}", timeout=10)
    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.headers["content-type"] == PROBLEM_JSON
    # Nothing tells a prober that the path without the slash exists.
    assert {k: v for k, v in response.json().items() if k != "request_id"} == {
        k: v for k, v in random.json().items() if k != "request_id"
    }


def test_a_cors_preflight_is_still_the_cors_layer_s(server: Server) -> None:
    headers = {"Origin": server.origin, "Access-Control-Request-Method": "PATCH"}
    allowed = httpx.options(server.url + "/v1/me", headers=headers, timeout=10)
    assert allowed.headers.get("access-control-allow-origin") == server.origin
    foreign = httpx.options(
        server.url + "/v1/me",
        headers={**headers, "Origin": "https://evil.example"},
        timeout=10,
    )
    assert "access-control-allow-origin" not in foreign.headers


@pytest.mark.parametrize(("path", "template"), [("/healthz", "/healthz"), ("/v1/me", "/v1/me")])
def test_a_head_access_line_names_the_get_route_that_served_it(
    server: Server, path: str, template: str
) -> None:
    """HEAD runs the GET route; its access line says HEAD and names that route's template
    (it said ``<unmatched>``, so HEAD traffic fell out of the per-route metrics)."""
    request_id = httpx.head(server.url + path, timeout=10).headers["x-request-id"]
    line: dict[str, object] = {}
    deadline = time.monotonic() + 5
    while not line and time.monotonic() < deadline:
        for raw in server.log_text().splitlines():
            if request_id in raw and '"request handled"' in raw:
                line = json.loads(raw)
        time.sleep(0.05)
    assert line, f"no access line for {request_id}"
    assert (line["method"], line["route"]) == ("HEAD", template), line
