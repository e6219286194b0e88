"""The reviewer console in a real Chromium against a real server (docs/console.md).

One server and one browser for the whole package (a fresh browser context, so a fresh cookie
jar, per test); the model stub and the database are the session's. Every page is watched: CSP
violations (the ``securitypolicyviolation`` event, which Trusted Types violations raise too),
page errors and JavaScript dialogs are recorded, so a test can assert that none happened.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.console.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Browser,
    Page,
    Watched,
    sync_playwright,
)
from tests.support import Database, Server, Stub, base_env, start_server, stop_server

METRICS_TOKEN = "console-metrics-" + "x" * 16  # pragma: allowlist secret
IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture(scope="package")
def console(db: Database, stub: Stub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = base_env(
        db,
        OPENAI_BASE_URL=stub.base_url,
        METRICS_TOKEN=METRICS_TOKEN,
        # Webhook endpoints in the console tests point at a loopback address nobody listens on.
        OUTBOUND_DEV_ALLOWED_ADDRESSES="127.0.0.2",
    )
    server = start_server(env, Path(tmp_path_factory.mktemp("console")) / "server.log")
    yield server
    stop_server(server)


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def tab(chromium: Browser, console: Server) -> Iterator[Watched]:
    context = chromium.new_context(base_url=console.url, viewport={"width": 1200, "height": 800})
    watched = Watched(context, console)
    yield watched
    context.close()


def csp_reports_counted(server: Server) -> float:
    """The server's ``launchproof_csp_violations_total``, summed over directives."""
    text = httpx.get(
        server.url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    ).text
    values = re.findall(r"^launchproof_csp_violations_total\{[^}]*\} ([0-9.e+]+)$", text, re.M)
    return sum(float(v) for v in values)


def screenshot(page: Page, name: str) -> None:
    """console-<name>.png, shown-once secrets masked: into docs/img (the pictures in
    docs/console.md) with ``LP_SCREENSHOTS=1``, else into a temporary directory, so an ordinary
    ``make test`` still renders every screen but leaves the tree clean."""
    folder = IMG if os.environ.get("LP_SCREENSHOTS") == "1" else Path(tempfile.gettempdir())
    path = str(folder / f"console-{name}.png")
    page.screenshot(path=path, full_page=True, mask=[page.locator(".secret-value")])
