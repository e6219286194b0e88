"""``/docs`` in a real Chromium, offline: Swagger UI renders from local assets under its strict
CSP (no CDN, no inline script), with zero CSP violations (development tooling; C5's CSP rules).

Every request that leaves loopback is aborted, so a page that still reached for a CDN would
render blank and fail here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.chromium import CHROMIUM, Route, sync_playwright
from tests.servers import ServerFactory
from tests.support import Database, Server, base_env

pytestmark = pytest.mark.checklist(
    "C5", red="boot Swagger UI from an inline script or a CDN again (app/core/docs.py)"
)


@pytest.fixture(scope="module")
def docs_server(server_factory: ServerFactory, db: Database) -> Iterator[Server]:
    env = base_env(db, ENVIRONMENT="development", DOCS_ENABLED="true")
    with server_factory(env, name="docs-page") as server:
        yield server


def test_swagger_ui_renders_offline_with_no_csp_violation(docs_server: Server) -> None:
    problems: list[str] = []
    left_loopback: list[str] = []

    def offline(route: Route) -> None:
        if route.request.url.startswith(docs_server.url):
            route.continue_()
        else:
            left_loopback.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.route("**/*", offline)
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(docs_server.url + "/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
            title = page.inner_text(".swagger-ui .info .title")
            operations = page.locator(".opblock").count()
            authorize = page.locator(".btn.authorize").count()
        finally:
            browser.close()
    assert "Launchproof" in title
    assert operations > 20  # the whole contract rendered, not an empty shell
    assert authorize == 1  # securitySchemes: the Authorize button exists
    assert left_loopback == []
    assert problems == []  # CSP violations are console errors ("Refused to ...")
