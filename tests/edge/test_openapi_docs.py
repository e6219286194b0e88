"""OpenAPI docs and schema are off in production (checklist C7; ADR 0007).

The production server (tests/edge/production.py) is asked over HTTPS, as Cloudflare would forward
it, so a 404 here is the route being absent, not the HTTPS redirect or refusal. The same client
gets 200 from a real route, so the 404s cannot come from a broken setup.
"""

from __future__ import annotations

import pytest

from tests.edge.production import prod_server, request
from tests.support import Server

pytestmark = pytest.mark.checklist(
    "C11",
    red="serve /docs or /openapi.json in production (DOCS_ENABLED, app/main.py)",
)

__all__ = ["prod_server"]  # the module-scoped fixture, imported for pytest


def test_a_real_route_answers_through_the_same_client(prod_server: Server) -> None:
    assert request(prod_server, "GET", "/healthz", https=True).status_code == 200


@pytest.mark.parametrize(
    "path", ["/docs", "/openapi.json", "/redoc", "/docs/oauth2-redirect", "/openapi.yaml"]
)
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_docs_and_schema_are_404_in_production(
    prod_server: Server,
    path: str,
    accept: str,
) -> None:
    response = request(prod_server, "GET", path, https=True, headers={"Accept": accept})
    assert response.status_code == 404, (path, response.status_code)
    assert "openapi" not in response.text.lower()
    assert "swagger" not in response.text.lower()
